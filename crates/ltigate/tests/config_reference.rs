//! The README's configuration reference cannot drift from the configuration types: the field
//! list is read from the types themselves (serde's "unknown field" error names every field a
//! struct has), and each README default and environment variable is loaded through
//! `Config::load` and must give exactly the built-in default.
#![allow(clippy::unwrap_used)] // test helpers fail loudly
#![allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type

use std::collections::BTreeSet;
use std::path::Path;

use figment::error::Kind;
use figment::providers::{Format, Serialized, Toml};
use figment::{Figment, Jail};
use ltigate::config::Config;

const README: &str = include_str!("../../../README.md");
const HEADING: &str = "### Configuration reference";
/// A key no configuration struct has.
const PROBE: &str = "zz_reference_probe";

/// The fields of the struct at `path` ([] is `Config`), or `None` when the value there is not
/// a struct (a leaf: a string, number, list or map).
fn struct_fields(path: &[&str]) -> Option<&'static [&'static str]> {
    let key: Vec<&str> = path.iter().copied().chain([PROBE]).collect();
    let figment = Figment::from(Serialized::default(&key.join("."), 1));
    let error = figment.extract::<Config>().err()?;
    error.into_iter().find_map(|e| match e.kind {
        Kind::UnknownField(field, expected) if field == PROBE => Some(expected),
        _ => None,
    })
}

/// Every leaf field as a dotted path (`registration.rate_limit.burst`).
fn leaves(path: &mut Vec<&'static str>, out: &mut BTreeSet<String>) {
    match struct_fields(path) {
        Some(fields) => {
            for field in fields {
                path.push(field);
                leaves(path, out);
                path.pop();
            }
        }
        None => {
            out.insert(path.join("."));
        }
    }
}

fn config_fields() -> BTreeSet<String> {
    let mut fields = BTreeSet::new();
    leaves(&mut Vec::new(), &mut fields);
    fields
}

fn env_name(field: &str) -> String {
    format!("LTIGATE_{}", field.replace('.', "__").to_ascii_uppercase())
}

/// One row of the README table.
#[derive(Debug)]
struct Row {
    field: String,
    /// A TOML value, or `None` for `unset`.
    default: Option<String>,
    env: String,
}

fn code(cell: &str) -> Option<&str> {
    cell.strip_prefix('`')?.strip_suffix('`')
}

fn readme_rows() -> Vec<Row> {
    let start = README
        .find(HEADING)
        .expect("the README has a configuration reference");
    let table = README[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2); // header and separator
    table
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 4, "four cells: {line}");
            let field = code(cells[0]).unwrap_or_else(|| panic!("field in backticks: {line}"));
            let default = match cells[1] {
                "unset" => None,
                cell => Some(
                    code(cell)
                        .unwrap_or_else(|| panic!("default is `TOML` or unset: {line}"))
                        .to_owned(),
                ),
            };
            let env = code(cells[2]).unwrap_or_else(|| panic!("variable in backticks: {line}"));
            Row {
                field: field.to_owned(),
                default,
                env: env.to_owned(),
            }
        })
        .collect()
}

fn debug(config: &Config) -> String {
    format!("{config:?}")
}

#[test]
fn the_field_list_comes_from_the_types() {
    let fields = config_fields();
    // Spot checks that the walk reaches nested structs and stops at lists and maps.
    for field in [
        "public_url",
        "app.launch_url",
        "registration.rate_limit.burst",
        "tool.messages",
        "tool.custom_parameters",
        "registration.hosted_issuers",
    ] {
        assert!(fields.contains(field), "{field} in {fields:?}");
    }
    assert!(!fields.contains("app"), "{fields:?}");
    assert!(!fields.iter().any(|f| f.starts_with("tool.messages.")));
}

#[test]
fn the_readme_lists_every_field_and_only_fields_with_their_variables() {
    let fields = config_fields();
    let rows = readme_rows();
    let listed: BTreeSet<String> = rows.iter().map(|r| r.field.clone()).collect();
    assert_eq!(listed.len(), rows.len(), "a field is listed twice");
    let missing: Vec<_> = fields.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "add to the README's configuration reference: {missing:?}"
    );
    let unknown: Vec<_> = listed.difference(&fields).collect();
    assert!(
        unknown.is_empty(),
        "the README lists fields that do not exist: {unknown:?}"
    );
    for row in &rows {
        assert_eq!(row.env, env_name(&row.field), "{row:?}");
    }
}

#[test]
fn each_readme_default_is_the_default_in_the_file_and_in_the_environment() {
    let built_in = debug(&Config::default());
    for row in readme_rows() {
        let Some(value) = row.default.clone() else {
            continue;
        };
        // In the file, as a dotted key.
        let from_file = Figment::from(Toml::string(&format!("{} = {value}", row.field)))
            .extract::<Config>()
            .unwrap_or_else(|e| panic!("{}: {e}", row.field));
        assert_eq!(debug(&from_file), built_in, "file default of {}", row.field);
        // In the environment, through the loader `serve` uses.
        Jail::expect_with(|jail| {
            jail.set_env(&row.env, &value);
            let loaded = Config::load(Path::new("absent.toml"), false)
                .unwrap_or_else(|e| panic!("{}={value}: {e}", row.env));
            assert_eq!(debug(&loaded), built_in, "{}={value}", row.env);
            Ok(())
        });
    }
}

#[test]
fn each_readme_variable_reaches_its_field() {
    // A value no field accepts: a variable that reached its field stops the load naming it;
    // one that named no field would be ignored with a warning.
    for row in readme_rows() {
        Jail::expect_with(|jail| {
            jail.set_env(&row.env, "{zz=[1]}");
            let error = Config::load(Path::new("absent.toml"), false)
                .err()
                .unwrap_or_else(|| panic!("{} was ignored", row.env));
            // A map field names the bad entry inside it (`tool.custom_parameters.zz`).
            let error = error.to_string();
            assert!(
                error.contains(&format!("`{}`", row.field))
                    || error.contains(&format!("`{}.", row.field)),
                "{}: {error}",
                row.env
            );
            Ok(())
        });
    }
}
