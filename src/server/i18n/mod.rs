//! The page's languages, English and French: each one's messages (Project
//! Fluent catalogs in `locales/<lang>/`, compiled into the binary), which one
//! a request gets (`?lang=`, then the `sauve_lang` cookie, then
//! `Accept-Language`, then English), and numbers, sizes, dates and durations
//! written the way that language writes them (`format.rs`).
//!
//! Only people's pages are translated: the API, the CLI, logs and error
//! bodies stay English, so scripts and searches see one language.
//! `page.ftl` holds what the server renders; `script.ftl` what the page's
//! script writes, handed to it as a JSON block of plain patterns (text and
//! `{$variables}`, which `tests/it/i18n.rs` holds it to).

pub mod format;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;
use unic_langid::LanguageIdentifier;

/// The cookie that keeps a person's choice of language.
pub const COOKIE: &str = "sauve_lang";

/// A language the page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// Its BCP 47 code, as `<html lang>` and the cookie write it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Its name in itself, for the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// `en`, `fr`, `fr-CA`, `EN-gb`: the language a code asks for, if we
    /// write it.
    pub fn parse(code: &str) -> Option<Lang> {
        let id: LanguageIdentifier = code.trim().parse().ok()?;
        Lang::ALL
            .into_iter()
            .find(|l| id.language.as_str() == l.code())
    }

    /// The language of a request: an explicit `?lang=` (a click on the
    /// switch), else the cookie it set, else the browser's preferences in
    /// their order (RFC 9110 weights), else English. Anything unreadable is
    /// skipped, never an error.
    pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Lang {
        if let Some(l) = query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
        {
            return l;
        }
        let Some(accept) = accept else {
            return Lang::default();
        };
        let available: Vec<LanguageIdentifier> = Lang::ALL
            .iter()
            .filter_map(|l| l.code().parse().ok())
            .collect();
        let default: LanguageIdentifier = Lang::default().code().parse().unwrap_or_default();
        let requested = by_weight(accept);
        fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        )
        .first()
        .and_then(|id| Lang::parse(&id.to_string()))
        .unwrap_or_default()
    }

    fn catalog(self) -> &'static Catalog {
        static EN: OnceLock<Catalog> = OnceLock::new();
        static FR: OnceLock<Catalog> = OnceLock::new();
        match self {
            Lang::En => EN.get_or_init(|| Catalog::new(self, PAGE_EN, SCRIPT_EN)),
            Lang::Fr => FR.get_or_init(|| Catalog::new(self, PAGE_FR, SCRIPT_FR)),
        }
    }

    /// A message without variables.
    pub fn t(self, id: &str) -> String {
        self.format(id, None)
    }

    /// A message with its variables: text (`Arg::S`) or numbers (`Arg::N`,
    /// which also choose a plural form).
    pub fn ta(self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            match v {
                Arg::S(s) => fa.set(*k, FluentValue::from(*s)),
                Arg::N(n) => fa.set(*k, FluentValue::from(*n)),
            }
        }
        self.format(id, Some(&fa))
    }

    fn format(self, id: &str, args: Option<&FluentArgs>) -> String {
        // A message missing here falls back to English, then to its id:
        // tests/it/i18n.rs keeps both catalogs complete, so this is a slip,
        // not a page that fails.
        for lang in [self, Lang::En] {
            let bundle = &lang.catalog().bundle;
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, args, &mut errors);
                if !errors.is_empty() {
                    tracing::warn!(id, lang = lang.code(), ?errors, "a message did not format");
                }
                return text.into_owned();
            }
        }
        tracing::warn!(id, lang = self.code(), "no such message");
        id.to_string()
    }

    /// The script's messages, as the JSON object the page embeds: each id to
    /// its pattern, variables written `{$name}`. Made once.
    pub fn script_messages(self) -> &'static str {
        &self.catalog().script_json
    }
}

/// The languages of an `Accept-Language` header, most wanted first by their
/// `q` weights (RFC 9110; equal weights keep their order), without those it
/// refuses (`q=0`) and those that are not language tags.
fn by_weight(accept: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(f32, LanguageIdentifier)> = accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag: LanguageIdentifier = parts.next()?.trim().parse().ok()?;
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0 && q <= 1.0).then_some((q, tag))
        })
        .collect();
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0));
    weighted.into_iter().map(|(_, tag)| tag).collect()
}

/// A message's variable.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    S(&'a str),
    N(i64),
}

const PAGE_EN: &str = include_str!("../../../locales/en/page.ftl");
const PAGE_FR: &str = include_str!("../../../locales/fr/page.ftl");
const SCRIPT_EN: &str = include_str!("../../../locales/en/script.ftl");
const SCRIPT_FR: &str = include_str!("../../../locales/fr/script.ftl");

/// The source of each catalog, for the tests that hold them complete.
pub fn sources(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => (PAGE_EN, SCRIPT_EN),
        Lang::Fr => (PAGE_FR, SCRIPT_FR),
    }
}

struct Catalog {
    bundle: FluentBundle<FluentResource>,
    script_json: String,
}

impl Catalog {
    fn new(lang: Lang, page: &'static str, script: &'static str) -> Catalog {
        let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // HTML is not bidirectional text: no isolation marks around values.
        bundle.set_use_isolating(false);
        for (name, source) in [("page.ftl", page), ("script.ftl", script)] {
            // The catalogs are compiled in and tested: an error here is a
            // release that skipped its tests; the page still renders the
            // messages that parsed.
            let res =
                FluentResource::try_new(source.to_string()).unwrap_or_else(|(res, errors)| {
                    tracing::error!(
                        lang = lang.code(),
                        file = name,
                        ?errors,
                        "catalog has syntax errors"
                    );
                    res
                });
            if let Err(errors) = bundle.add_resource(res) {
                tracing::error!(
                    lang = lang.code(),
                    file = name,
                    ?errors,
                    "catalog has duplicate messages"
                );
            }
        }
        Catalog {
            bundle,
            script_json: script_patterns(script).unwrap_or_else(|e| {
                tracing::error!(lang = lang.code(), error = %e, "script catalog is not plain");
                "{}".into()
            }),
        }
    }
}

/// `script.ftl` as a JSON object of plain patterns: text and variables only,
/// so the script needs no Fluent of its own. Anything else is an error.
pub fn script_patterns(source: &str) -> Result<String, String> {
    use fluent_syntax::ast::{Entry, Expression, InlineExpression, PatternElement};
    let res = fluent_syntax::parser::parse(source).map_err(|(_, e)| format!("{e:?}"))?;
    let mut out = serde_json::Map::new();
    for entry in res.body {
        let Entry::Message(m) = entry else { continue };
        let id = m.id.name;
        let value = m.value.ok_or_else(|| format!("{id} has no value"))?;
        let mut text = String::new();
        for el in value.elements {
            match el {
                PatternElement::TextElement { value } => text.push_str(value),
                PatternElement::Placeable {
                    expression: Expression::Inline(InlineExpression::VariableReference { id: v }),
                } => {
                    text.push_str("{$");
                    text.push_str(v.name);
                    text.push('}');
                }
                other => {
                    return Err(format!(
                        "{id}: only text and {{ $variables }}, not {other:?}"
                    ));
                }
            }
        }
        out.insert(id.to_string(), serde_json::Value::String(text));
    }
    // `</script>` cannot end the block early: `<` is written as an escape.
    Ok(serde_json::Value::Object(out)
        .to_string()
        .replace('<', "\\u003c"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_gets_the_language_it_asks_for() {
        use Lang::*;
        // (?lang=, cookie, Accept-Language, the language served)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Lang);
        let cases: &[Case] = &[
            (None, None, None, En),
            (None, None, Some("fr-FR,fr;q=0.9,en;q=0.8"), Fr),
            (None, None, Some("en-US,en;q=0.9,fr;q=0.8"), En),
            (None, None, Some("de-DE,fr;q=0.5"), Fr),
            (None, None, Some("de-DE,ja"), En),
            (None, None, Some("fr;q=0.1, en;q=0.9"), En),
            (None, None, Some("en;q=0, fr"), Fr),
            (None, None, Some("en;q=0.5, fr;q=0.5"), En),
            (None, None, Some("fr;q=abc, en"), En),
            (None, None, Some("*"), En),
            (None, None, Some("fr-CA"), Fr),
            (None, None, Some(";;;,q=garbage,\u{0}"), En),
            (None, Some("fr"), Some("en-US"), Fr),
            (None, Some("xx"), Some("fr"), Fr),
            (Some("en"), Some("fr"), Some("fr"), En),
            (Some("fr"), None, None, Fr),
            (Some("../../etc"), Some("fr"), None, Fr),
            (Some("<script>"), None, None, En),
        ];
        for (query, cookie, accept, want) in cases {
            assert_eq!(
                Lang::negotiate(*query, *cookie, *accept),
                *want,
                "{query:?} {cookie:?} {accept:?}"
            );
        }
    }
}
