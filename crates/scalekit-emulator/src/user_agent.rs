//! The `user_agent` object stored with a passkey: the registering browser's
//! `User-Agent` header, parsed with `woothee`.

use serde::{Deserialize, Serialize};

/// Longest `User-Agent` kept; longer headers are cut (on a character boundary).
const MAX_RAW_LEN: usize = 512;

/// What Scalekit's credential JSON calls `user_agent`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAgentInfo {
    /// The header as received (cut to 512 bytes).
    #[serde(default)]
    pub raw: String,
    /// The page the registration came from; not known to the emulator.
    #[serde(default)]
    pub url: String,
    /// Browser name, e.g. "Chrome".
    #[serde(default)]
    pub browser: String,
    /// Browser version, e.g. "131.0.0.0".
    #[serde(default)]
    pub browser_version: String,
    /// Operating system, e.g. "Linux", "macOS", "iOS".
    #[serde(default)]
    pub os: String,
    /// Operating system version, when the header tells it.
    #[serde(default)]
    pub os_version: String,
    /// "desktop", "mobile", "appliance", "bot" or empty.
    #[serde(default)]
    pub device_type: String,
    /// "iPhone", "iPad" or empty.
    #[serde(default)]
    pub device_model: String,
}

/// Parses a `User-Agent` header. Unknown parts are empty strings.
pub fn parse(header: &str) -> UserAgentInfo {
    let raw = truncate(header, MAX_RAW_LEN).to_owned();
    let mut info = UserAgentInfo {
        raw,
        ..UserAgentInfo::default()
    };
    let parser = woothee::parser::Parser::new();
    if let Some(result) = parser.parse(header) {
        info.browser = known(result.name);
        info.browser_version = known(result.version);
        info.os = known(result.os);
        info.os_version = known(&result.os_version);
        info.device_type = match result.category {
            "pc" => "desktop",
            "smartphone" | "mobilephone" => "mobile",
            "appliance" => "appliance",
            "crawler" => "bot",
            _ => "",
        }
        .to_owned();
    }
    // woothee does not know Chromium's headless build; it is Chrome's engine.
    if info.browser.is_empty() {
        if let Some(version) = version_after(header, "HeadlessChrome/") {
            info.browser = "Chrome".to_owned();
            info.browser_version = version.to_owned();
            if info.device_type.is_empty() {
                info.device_type = "desktop".to_owned();
            }
        }
    }
    if info.os.is_empty() && header.contains("Linux") {
        info.os = "Linux".to_owned();
    }
    match info.os.as_str() {
        "iPhone" | "iPad" | "iPod" => {
            info.device_model = info.os.clone();
            info.os = "iOS".to_owned();
        }
        "Mac OSX" => info.os = "macOS".to_owned(),
        _ => {}
    }
    info
}

fn known(value: &str) -> String {
    if value == woothee::woothee::VALUE_UNKNOWN {
        String::new()
    } else {
        value.to_owned()
    }
}

fn version_after<'a>(header: &'a str, marker: &str) -> Option<&'a str> {
    let start = header.find(marker)? + marker.len();
    let rest = &header[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_browsers() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                ("Chrome", "131.0.0.0", "Linux", "desktop", ""),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36",
                ("Chrome", "131.0.6778.85", "Linux", "desktop", ""),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
                ("Safari", "17.1", "macOS", "desktop", ""),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
                ("Safari", "17.1", "iOS", "mobile", "iPhone"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
                ("Firefox", "120.0", "Windows 10", "desktop", ""),
            ),
        ];
        for (header, (browser, version, os, device_type, model)) in cases {
            let info = parse(header);
            assert_eq!(info.raw, header);
            assert_eq!(info.browser, browser, "{header}");
            assert_eq!(info.browser_version, version, "{header}");
            assert_eq!(info.os, os, "{header}");
            assert_eq!(info.device_type, device_type, "{header}");
            assert_eq!(info.device_model, model, "{header}");
            assert_eq!(info.url, "");
        }
    }

    #[test]
    fn unknown_and_hostile_headers_give_empty_fields() {
        let info = parse("");
        assert_eq!(info, UserAgentInfo::default());
        let long = "é".repeat(1000);
        let info = parse(&long);
        assert!(info.raw.len() <= MAX_RAW_LEN);
        assert!(long.starts_with(&info.raw));
        assert_eq!(info.browser, "");
    }

    #[test]
    fn round_trips_as_the_wire_object() {
        let info = parse("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36");
        let json = serde_json::to_value(&info).unwrap_or_default();
        for key in [
            "raw",
            "url",
            "browser",
            "browser_version",
            "os",
            "os_version",
            "device_type",
            "device_model",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        let back: UserAgentInfo = serde_json::from_value(json).unwrap_or_default();
        assert_eq!(back, info);
    }
}
