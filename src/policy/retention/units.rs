//! The values a policy is written with: counts (`7`, `"unlimited"`),
//! restic's durations (`1y2m3d4h`) and the trash's grace period (`24h`,
//! `0s`), each parsed with a message that says what to write instead.

use super::*;

/// The longest grace period: ten years.
pub const MAX_TRASH_FOR_DAYS: u64 = 3650;

pub(super) const ZERO_WITHIN: &str =
    "a keep_within duration must be more than zero, e.g. 7d; leave the rule out to turn it off";

/// Why a count, a `keep_within*` duration or a `trash_for` value was refused;
/// the message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// How many buckets a `keep_*` count rule fills: a number, or `unlimited`
/// (restic's -1). `N(0)` turns the rule off, as restic's 0 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    N(u32),
    Unlimited,
}

impl Default for Count {
    /// Off, as a rule that is not written.
    fn default() -> Self {
        Count::N(0)
    }
}

impl Count {
    pub(super) fn is_off(self) -> bool {
        self == Count::N(0)
    }

    pub(super) fn spend_one(&mut self) {
        if let Count::N(n) = self {
            *n = n.saturating_sub(1);
        }
    }
}

fn not_a_count(shown: &str) -> ParseError {
    ParseError(format!(
        "{shown} is not a count: write a number such as 7, or \"unlimited\""
    ))
}

// Someone coming from restic writes its -1 for "keep all".
pub(super) const RESTIC_MINUS_ONE: &str =
    "-1 is not a count: write \"unlimited\" for restic's -1, or a number such as 7";

fn count_too_large(digits: &str) -> ParseError {
    ParseError(format!(
        "{digits} is too large for a count: write \"unlimited\" to keep them all"
    ))
}

/// The form of a CLI flag: `7` or `unlimited`.
impl FromStr for Count {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        match text {
            "unlimited" => return Ok(Count::Unlimited),
            "-1" => return Err(ParseError(RESTIC_MINUS_ONE.to_owned())),
            _ => {}
        }
        // Digits only: u32's own parser would also take "+7".
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text
                .parse()
                .map(Count::N)
                .map_err(|_| count_too_large(text));
        }
        Err(not_a_count(&format!("{text:?}")))
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::N(n) => write!(f, "{n}"),
            Count::Unlimited => f.write_str("unlimited"),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::N(n) => serializer.serialize_u32(*n),
            Count::Unlimited => serializer.serialize_str("unlimited"),
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CountVisitor)
    }
}

struct CountVisitor;

impl de::Visitor<'_> for CountVisitor {
    type Value = Count;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number such as 7, or \"unlimited\"")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
        u32::try_from(v)
            .map(Count::N)
            .map_err(|_| E::custom(count_too_large(&v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) if v == -1 => Err(E::custom(RESTIC_MINUS_ONE)),
            Err(_) => Err(E::custom(not_a_count(&v.to_string()))),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Count, E> {
        match v.parse() {
            Ok(Count::N(_)) => Err(E::custom(format!(
                "{v:?} is not a count: write the number without quotes, or \"unlimited\""
            ))),
            parsed => parsed.map_err(E::custom),
        }
    }
}

impl JsonSchema for Count {
    fn schema_name() -> Cow<'static, str> {
        "Count".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "How many to keep: a number (0 turns the rule off), or \"unlimited\".",
            "oneOf": [
                { "type": "integer", "minimum": 0, "maximum": u32::MAX },
                { "const": "unlimited" }
            ]
        })
    }
}

/// How far back from the newest backup a `keep_within*` rule reaches,
/// restic's duration `1y2m3d4h`: calendar years, months and days, then hours.
/// Written as that string in TOML and JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Within {
    pub years: u32,
    pub months: u32,
    pub days: u32,
    pub hours: u32,
}

impl Within {
    /// A zero duration is restic's "rule not set".
    pub fn is_zero(&self) -> bool {
        *self == Within::default()
    }
}

impl FromStr for Within {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let parts = split_units(text, &WITHIN_SYNTAX)?;
        let mut fields = [0; 4];
        for (value, unit) in parts {
            fields[unit] = value;
        }
        let [years, months, days, hours] = fields;
        let within = Within {
            years,
            months,
            days,
            hours,
        };
        if within.is_zero() {
            return Err(ParseError(ZERO_WITHIN.to_owned()));
        }
        Ok(within)
    }
}

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            // restic prints nothing, which reads as a missing value in a message.
            return f.write_str("0h");
        }
        let parts = [self.years, self.months, self.days, self.hours];
        for (value, unit) in parts.into_iter().zip(WITHIN_SYNTAX.units) {
            if value != 0 {
                write!(f, "{value}{unit}")?;
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for Within {
    type Error = ParseError;

    fn try_from(text: String) -> Result<Self, ParseError> {
        text.parse()
    }
}

impl From<Within> for String {
    fn from(within: Within) -> String {
        within.to_string()
    }
}

pub(super) const WITHIN_PATTERN: &str = r"^\s*([0-9]+[ymdh])+\s*$";
pub(super) const TRASH_FOR_PATTERN: &str = r"^\s*([0-9]+[dhms])+\s*$";

impl JsonSchema for Within {
    fn schema_name() -> Cow<'static, str> {
        "Within".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "How far back from the newest backup: whole numbers with units \
                y (years), m (months), d (days) and h (hours), each unit at most once, \
                not all zero, e.g. 7d or 1y6m.",
            "type": "string",
            "pattern": WITHIN_PATTERN,
            "examples": ["7d", "1y6m", "36h"]
        })
    }
}

/// Parses a `trash_for` grace period: one or more `<number><unit>` with units
/// d, h, m (minutes) and s, such as `24h` or `1d12h`; `0s` purges at once.
pub fn parse_trash_for(text: &str) -> Result<Duration, ParseError> {
    const SECONDS: [u64; 4] = [24 * 60 * 60, 60 * 60, 60, 1];
    let parts = split_units(text, &TRASH_FOR_SYNTAX)?;
    // Four u32 values times at most a day's seconds stay far below u64::MAX.
    let seconds = parts
        .iter()
        .map(|&(n, unit)| u64::from(n) * SECONDS[unit])
        .sum::<u64>();
    // Longer is a typo, and past year 9999 an instant has no date to show.
    if seconds > MAX_TRASH_FOR_DAYS * SECONDS[0] {
        return Err(ParseError(format!(
            "{:?} is longer than {MAX_TRASH_FOR_DAYS} days: a trash is a grace period, not an archive (keep_yearly keeps backups for years)",
            text.trim()
        )));
    }
    Ok(Duration::from_secs(seconds))
}

/// How one `<number><unit>…` syntax names its units and words its errors.
struct UnitSyntax {
    what: &'static str,
    units: [char; 4],
    unit_list: &'static str,
    example: &'static str,
    /// A unit someone is likely to try that this syntax lacks, with what to write.
    hint: fn(&str) -> Option<&'static str>,
}

const WITHIN_SYNTAX: UnitSyntax = UnitSyntax {
    what: "a keep_within duration",
    units: ['y', 'm', 'd', 'h'],
    unit_list: "y (years), m (months), d (days) or h (hours)",
    example: "1y6m",
    hint: |unit| match unit {
        "min" | "mins" | "minute" | "minutes" => {
            Some("m is months here, and this rule has no unit for minutes (the smallest is h)")
        }
        _ => weeks_hint(unit),
    },
};

const TRASH_FOR_SYNTAX: UnitSyntax = UnitSyntax {
    what: "trash_for",
    units: ['d', 'h', 'm', 's'],
    unit_list: "d (days), h (hours), m (minutes) or s (seconds)",
    example: "1d12h",
    hint: weeks_hint,
};

fn weeks_hint(unit: &str) -> Option<&'static str> {
    matches!(unit, "w" | "wk" | "week" | "weeks").then_some("write weeks as days, e.g. 14d")
}

/// Splits `text` (trimmed, as restic trims) into `(number, index of its unit
/// in syntax.units)`. Stricter than restic, which takes a negative number and
/// lets a repeated unit silently overwrite the first.
fn split_units(text: &str, syntax: &UnitSyntax) -> Result<Vec<(u32, usize)>, ParseError> {
    let fail = |message: String| Err(ParseError(message));
    let (example, unit_list) = (syntax.example, syntax.unit_list);
    let unexpected = |c: char| {
        format!(
            "unexpected {c:?} in {text:?}: write each number right before its unit, e.g. {example}"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return fail(format!(
            "{} is empty: write one such as {example}",
            syntax.what
        ));
    }
    let mut parts: Vec<(u32, usize)> = Vec::new();
    while let Some(first) = rest.chars().next() {
        let digits = leading(rest, |c| c.is_ascii_digit());
        let unit = leading(&rest[digits.len()..], char::is_alphabetic);
        rest = &rest[digits.len() + unit.len()..];
        if digits.is_empty() {
            return fail(match (first, unit) {
                ('-', _) => format!("{text:?} is negative: write how long, such as {example}"),
                (_, "") => unexpected(first),
                _ => format!("{unit:?} needs a number before it, e.g. {example}"),
            });
        }
        if unit.is_empty() {
            return fail(match rest.chars().next() {
                None => format!("{digits} has no unit: use {unit_list}, e.g. {example}"),
                Some('.' | ',') => {
                    format!("{text:?} has a fraction: use whole numbers, e.g. {example}")
                }
                Some(c) => unexpected(c),
            });
        }
        let mut chars = unit.chars();
        let index = match (chars.next(), chars.next()) {
            (Some(c), None) => syntax.units.iter().position(|&u| u == c),
            _ => None,
        };
        let Some(index) = index else {
            return fail(match (syntax.hint)(unit) {
                Some(hint) => format!("{unit:?} is not a unit: {hint}"),
                None => format!("{unit:?} is not a unit: use {unit_list}, e.g. {example}"),
            });
        };
        if parts.iter().any(|&(_, seen)| seen == index) {
            return fail(format!(
                "{text:?} gives {unit} twice: give each unit once, e.g. {example}"
            ));
        }
        let Ok(value) = digits.parse() else {
            return fail(format!("{digits}{unit} is too large: at most {}", u32::MAX));
        };
        parts.push((value, index));
    }
    Ok(parts)
}

fn leading(text: &str, keep: impl Fn(char) -> bool) -> &str {
    &text[..text.find(|c| !keep(c)).unwrap_or(text.len())]
}
