pub mod deep_linking;
