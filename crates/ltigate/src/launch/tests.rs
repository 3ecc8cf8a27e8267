//! Pure parts of the launch: where the browser is sent.

use super::*;

fn handoff(target: &str) -> String {
    with_ltik(Url::parse(target).expect("url"), "REAL").to_string()
}

#[test]
fn the_real_ltik_is_the_only_one() {
    let cases = [
        ("http://app.test/launch", "http://app.test/launch?ltik=REAL"),
        (
            "http://app.test/launch?",
            "http://app.test/launch?ltik=REAL",
        ),
        (
            "http://app.test/a?ltik=attacker",
            "http://app.test/a?ltik=REAL",
        ),
        (
            "http://app.test/a?x=1&ltik=attacker&y=a%20b+c&ltik=&ltik&z",
            "http://app.test/a?x=1&y=a%20b+c&z&ltik=REAL",
        ),
        // Encoded names are what the app decodes: they go too.
        (
            "http://app.test/a?%6Ctik=attacker&l%74ik=2&ltik2=keep&xltik=keep",
            "http://app.test/a?ltik2=keep&xltik=keep&ltik=REAL",
        ),
        (
            "http://app.test/a?&&x=1&&#frag",
            "http://app.test/a?x=1&ltik=REAL#frag",
        ),
    ];
    for (target, expected) in cases {
        assert_eq!(handoff(target), expected, "{target}");
    }
}
