//! The page in French and English: both catalogs hold every message the
//! templates, the page's Rust and the script use, and only those; the
//! script's are plain patterns; and the real server picks the language from
//! `?lang=`, the cookie it sets, then `Accept-Language`, never echoing what
//! it was sent.

use crate::common::*;
use crate::edge::{get, header, login, session_cookie};
use sauve::server::i18n::{Lang, script_patterns, sources};
use std::collections::BTreeSet;

/// The ids of a catalog's messages, in order.
fn ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| {
            let (id, _) = l.split_once(" =")?;
            let ok = !id.is_empty()
                && id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            ok.then(|| id.to_string())
        })
        .collect()
}

/// Every literal `open` + id + `"` in `text`.
fn literal_ids(text: &str, open: &str) -> BTreeSet<String> {
    text.match_indices(open)
        .filter_map(|(i, _)| {
            let rest = &text[i + open.len()..];
            let end = rest.find('"')?;
            Some(rest[..end].to_string())
        })
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

fn rust_sources(dir: &str) -> String {
    let mut all = String::new();
    for entry in walkdir::WalkDir::new(format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"))) {
        let entry = entry.expect("a source file");
        if entry.path().extension().is_some_and(|e| e == "rs") {
            all.push_str(&std::fs::read_to_string(entry.path()).expect("readable"));
        }
    }
    all
}

/// Message families whose ids the page makes from a value (`state-failed`).
const FAMILIES: [&str; 12] = [
    "state-",
    "kind-",
    "trigger-",
    "delivery-",
    "role-",
    "badge-",
    "weekday-",
    "rule-",
    "outcome-",
    "status-",
    "ret-",
    "sched-every-",
];

#[test]
fn both_languages_hold_the_same_messages_and_every_one_used() {
    let (en_page, en_script) = sources(Lang::En);
    let (fr_page, fr_script) = sources(Lang::Fr);
    assert_eq!(
        ids(en_page),
        ids(fr_page),
        "page.ftl: the same ids in the same order"
    );
    assert_eq!(
        ids(en_script),
        ids(fr_script),
        "script.ftl: the same ids in the same order"
    );
    for (name, src) in [
        ("en/page", en_page),
        ("fr/page", fr_page),
        ("en/script", en_script),
        ("fr/script", fr_script),
    ] {
        fluent_bundle::FluentResource::try_new(src.to_string())
            .unwrap_or_else(|(_, e)| panic!("{name}.ftl does not parse: {e:?}"));
        let all = ids(src);
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{name}.ftl has a duplicate id");
    }

    // The script: every t("js-…") it calls exists, and nothing else is there.
    let script = read("assets/app.js");
    let used = literal_ids(&script, "t(\"js-");
    let held: BTreeSet<String> = ids(en_script)
        .into_iter()
        .map(|id| id.trim_start_matches("js-").to_string())
        .collect();
    assert_eq!(used, held, "app.js's t(\"js-…\") calls and script.ftl");
    for lang in Lang::ALL {
        let (_, src) = sources(lang);
        let json: serde_json::Value =
            serde_json::from_str(&script_patterns(src).expect("plain patterns")).expect("JSON");
        assert_eq!(json.as_object().map(|o| o.len()), Some(held.len()));
        assert!(!script_patterns(src).unwrap().contains('<'));
    }

    // The page: every literal id the templates and the page's Rust use.
    let templates = read("templates/dashboard.html") + &read("templates/login.html");
    let rust = rust_sources("src/server/ui")
        + &read("src/server/ui.rs")
        + &rust_sources("src/server/i18n");
    let mut used: BTreeSet<String> = literal_ids(&templates, "t.t(\"");
    for open in [
        ".t(\"",
        ".ta(\n                \"",
        ".ta(\"",
        "lang.ta(\n            \"",
    ] {
        used.extend(literal_ids(&rust, open));
    }
    let held: BTreeSet<String> = ids(en_page).into_iter().collect();
    let missing: Vec<&String> = used
        .iter()
        .filter(|id| !held.contains(*id) && !id.contains('{'))
        .collect();
    assert!(missing.is_empty(), "used but not in page.ftl: {missing:?}");
    // And nothing held that nothing uses (ids made from a value excepted).
    let unused: Vec<&String> = held
        .iter()
        .filter(|id| !used.contains(*id) && !FAMILIES.iter().any(|f| id.starts_with(f)))
        .filter(|id| {
            !rust.contains(&format!("\"{id}\"")) && !templates.contains(&format!("\"{id}\""))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "in page.ftl but used nowhere: {unused:?}"
    );
}

#[test]
fn every_value_made_id_exists() {
    use sauve::domain::{RunKind, RunState, Trigger};
    let held: BTreeSet<String> = ids(sources(Lang::En).0).into_iter().collect();
    let mut wanted: Vec<String> = Vec::new();
    wanted.extend(RunState::ALL.iter().map(|s| format!("state-{s}")));
    wanted.extend(RunKind::ALL.iter().map(|k| format!("kind-{k}")));
    wanted.extend(Trigger::ALL.iter().map(|t| format!("trigger-{t}")));
    wanted.extend(["pending", "sending", "sent", "failed"].map(|s| format!("delivery-{s}")));
    wanted.extend(["admin", "viewer"].map(|r| format!("role-{r}")));
    wanted.extend(
        ["verified", "damaged", "test-restored", "test-failed"].map(|b| format!("badge-{b}")),
    );
    wanted.extend((1..=7).flat_map(|d| [format!("weekday-{d}"), format!("weekday-short-{d}")]));
    let missing: Vec<&String> = wanted.iter().filter(|id| !held.contains(*id)).collect();
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn the_page_speaks_the_language_asked_for_and_keeps_the_choice() {
    let sauve = Sauve::new();
    crate::api::add_user(&sauve, "ada", "admin", "ada-password-long");
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let a = server.addr.as_str();
    let (_, head, _) = login(a, "ada", "ada-password-long", "");
    let session = session_cookie(&head);
    let page = |query: &str, extra: &str| {
        let (status, head, body) = get(
            a,
            &format!("/dashboard/admin/backup{query}"),
            &format!("Cookie: {session}\r\n{extra}"),
        );
        assert_eq!(status, 200, "{query} {extra}: {body}");
        (head, body)
    };

    let (head, body) = page("", "");
    assert!(
        body.contains("<html lang=\"en\" data-base=\"\">") && body.contains("Create a job"),
        "English by default"
    );
    assert!(
        header(&head, "set-cookie").is_none(),
        "no choice, no cookie"
    );
    let (_, body) = page("", "Accept-Language: fr-CH, fr;q=0.9, en;q=0.8\r\n");
    assert!(
        body.contains("<html lang=\"fr\" data-base=\"\">") && body.contains("Créer une tâche"),
        "{body}"
    );
    assert!(!body.contains("Create a job"));
    assert!(
        body.contains("\"js-queued\":\"En file d’attente…\"") || body.contains("\"js-queued\":"),
        "the script's messages"
    );

    // A click on the switch: French, and a cookie that keeps it.
    let (head, body) = page("?lang=fr", "Accept-Language: en\r\n");
    assert!(body.contains("<html lang=\"fr\" data-base=\"\">"));
    let set = header(&head, "set-cookie").expect("the choice is kept");
    assert!(
        set.starts_with("sauve_lang=fr;") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let (_, body) = page("", "Cookie: sauve_lang=fr\r\nAccept-Language: en\r\n");
    assert!(
        body.contains("<html lang=\"fr\" data-base=\"\">"),
        "the cookie wins over the browser"
    );

    // Abuse: what is not a language is ignored, never written back.
    for bad in [
        "?lang=%3Cscript%3E",
        "?lang=en%0d%0aSet-Cookie:%20x=1",
        "?lang=",
    ] {
        let (head, body) = page(bad, "");
        assert!(header(&head, "set-cookie").is_none(), "{bad}: {head}");
        assert!(
            !body.contains("<script>") && body.contains("<html lang=\"en\" data-base=\"\">"),
            "{bad}"
        );
    }
    let (_, body) = page("", "Cookie: sauve_lang=\"><script>alert(1)</script>\r\n");
    assert!(!body.contains("<script>alert"));

    // The sign-in page too, before anyone is signed in.
    let (status, _, body) = get(a, "/login", "Accept-Language: fr\r\n");
    assert_eq!(status, 200);
    assert!(
        body.contains("Mot de passe") && body.contains("<html lang=\"fr\" data-base=\"\">"),
        "{body}"
    );
}
