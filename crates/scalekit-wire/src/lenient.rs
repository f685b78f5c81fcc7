//! The lenient reading shared by every type: a field of the wrong type reads
//! as absent, a list keeps only the items it can read.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// `Some(value)` when it has the expected type, else `None` (never an error).
pub(crate) fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).ok())
}

/// A list of strings: the strings of an array (other items dropped), `None`
/// when it is not an array.
pub(crate) fn strings<'de, D>(deserializer: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|item| match item {
                    Value::String(text) => Some(text),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    })
}

/// A list of messages: the objects of an array that read as `T` (other items
/// dropped), `None` when it is not an array.
pub(crate) fn objects<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => Some(items.into_iter().filter_map(object).collect()),
        _ => None,
    })
}

/// `value` as `T` when it is a JSON object that reads as `T`.
pub(crate) fn object<T: DeserializeOwned>(value: Value) -> Option<T> {
    if value.is_object() {
        T::deserialize(value).ok()
    } else {
        None
    }
}

/// A JSON object body as `T`; `None` when it is not JSON or not an object.
pub(crate) fn body<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    serde_json::from_slice::<Value>(bytes).ok().and_then(object)
}
