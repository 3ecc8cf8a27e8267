use super::*;

#[test]
fn identifiers_round_trip_and_display_their_value() {
    let iss = Issuer::new("https://canvas.example.edu");
    assert_eq!(iss.as_str(), "https://canvas.example.edu");
    assert_eq!(iss.to_string(), "https://canvas.example.edu");
    let json = serde_json::to_string(&iss).expect("serialize");
    assert_eq!(json, "\"https://canvas.example.edu\"");
    let back: Issuer = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, iss);
    assert_eq!(ClientId::new("abc").into_string(), "abc");
}

#[test]
fn secrets_never_show_in_debug() {
    let nonce = Nonce::new("very-secret-nonce");
    let state = State::new("very-secret-state");
    let printed = format!("{nonce:?} {state:?}");
    assert_eq!(printed, "Nonce([redacted]) State([redacted])");
    assert!(!printed.contains("very-secret"));
}

#[test]
fn secrets_compare_by_value() {
    let nonce = Nonce::new("abc");
    assert!(nonce.ct_eq("abc"));
    assert!(!nonce.ct_eq("abd"));
    assert!(!nonce.ct_eq("ab"));
    assert!(!nonce.ct_eq(""));
    assert_eq!(nonce.secret(), "abc");
}

#[test]
fn secrets_serialize_transparently_for_the_store() {
    let state = State::new("s1");
    let json = serde_json::to_string(&state).expect("serialize");
    assert_eq!(json, "\"s1\"");
    let back: State = serde_json::from_str(&json).expect("deserialize");
    assert!(back.ct_eq("s1"));
}
