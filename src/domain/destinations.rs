//! One entry of a job's `destinations`: a plain URI, or a table with the URI
//! and a retention policy of its own (`{ uri = "…", retention = { … } }`), so
//! a local copy can be kept 7 days while the S3 copy is kept 12 months.

use crate::policy::retention::RetentionSpec;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationSpec {
    Uri(String),
    Table(DestinationTable),
}

/// The table form of a destination entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DestinationTable {
    pub uri: String,
    /// This destination's own keep rules; they replace the job's rules as a
    /// whole (`min_keep` and `trash_for` are inherited when not set here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionSpec>,
}

impl DestinationSpec {
    pub fn uri(&self) -> &str {
        match self {
            DestinationSpec::Uri(u) => u,
            DestinationSpec::Table(t) => &t.uri,
        }
    }

    pub fn retention(&self) -> Option<&RetentionSpec> {
        match self {
            DestinationSpec::Uri(_) => None,
            DestinationSpec::Table(t) => t.retention.as_ref(),
        }
    }
}

impl From<String> for DestinationSpec {
    fn from(uri: String) -> Self {
        DestinationSpec::Uri(uri)
    }
}

impl From<&str> for DestinationSpec {
    fn from(uri: &str) -> Self {
        DestinationSpec::Uri(uri.to_string())
    }
}

// A plain string stays a plain string when written back, so job files and
// stored specs keep the shape their author chose.
impl Serialize for DestinationSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DestinationSpec::Uri(u) => s.serialize_str(u),
            DestinationSpec::Table(t) => t.serialize(s),
        }
    }
}

// By hand rather than `untagged`: serde's untagged enums answer "did not
// match any variant", which names neither the key at fault nor what to write.
impl<'de> Deserialize<'de> for DestinationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DestinationSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a destination URI, or a table { uri = \"…\", retention = { … } }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DestinationSpec::Uri(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                DestinationTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(DestinationSpec::Table)
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for DestinationSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DestinationSpec".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let table = g.subschema_for::<DestinationTable>();
        schemars::json_schema!({
            "description": "A destination URI, or {uri, retention} with this destination's own retention policy.",
            "oneOf": [{ "type": "string" }, table]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_or_a_table_and_back() {
        #[derive(Deserialize, Serialize)]
        struct Doc {
            destinations: Vec<DestinationSpec>,
        }
        let text = r#"destinations = ["file:///b", { uri = "s3://bkt", retention = { keep_monthly = 12 } }]"#;
        let doc: Doc = toml::from_str(text).unwrap();
        assert_eq!(
            doc.destinations[0],
            DestinationSpec::Uri("file:///b".into())
        );
        assert_eq!(doc.destinations[1].uri(), "s3://bkt");
        assert!(doc.destinations[1].retention().is_some());
        let again: Doc = toml::from_str(&toml::to_string(&doc).unwrap()).unwrap();
        assert_eq!(again.destinations, doc.destinations);
        let json = serde_json::to_value(&doc.destinations).unwrap();
        assert_eq!(json[0], "file:///b");
        assert_eq!(json[1]["uri"], "s3://bkt");

        // A typo is named, not "did not match any variant".
        let typo = r#"destinations = [{ uri = "file:///b", retenion = {} }]"#;
        let err = toml::from_str::<Doc>(typo).err().unwrap().to_string();
        assert!(err.contains("retenion"), "{err}");
        let err = serde_json::from_str::<Vec<DestinationSpec>>("[3]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("a destination URI"), "{err}");
    }
}
