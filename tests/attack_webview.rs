//! The webview as an attack surface: the CSP in `tauri.conf.json` denies
//! inline script and remote content; the capabilities (and the ACL that
//! `tauri-build` generated from them) grant the main window exactly the
//! app's commands; the UI puts data into the page only as text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use passkeys_desktop_lib::commands::COMMANDS;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// `directive -> sources` of a CSP string.
fn directives(csp: &str) -> BTreeMap<String, Vec<String>> {
    let mut parsed = BTreeMap::new();
    for directive in csp.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        let mut words = directive.split_whitespace();
        let name = words.next().unwrap().to_ascii_lowercase();
        let sources: Vec<String> = words.map(str::to_string).collect();
        assert!(
            parsed.insert(name.clone(), sources).is_none(),
            "{name} appears twice"
        );
    }
    parsed
}

fn config() -> Value {
    read_json(&root().join("tauri.conf.json"))
}

fn csp_strings(config: &Value) -> Vec<(String, String)> {
    let security = &config["app"]["security"];
    let mut found = Vec::new();
    for key in ["csp", "devCsp"] {
        match &security[key] {
            Value::Null => assert_ne!(key, "csp", "no CSP at all"),
            Value::String(text) => found.push((key.to_string(), text.clone())),
            Value::Object(map) => {
                let text = map
                    .iter()
                    .map(|(name, value)| {
                        let sources = match value {
                            Value::Array(list) => list
                                .iter()
                                .map(|s| s.as_str().unwrap().to_string())
                                .collect::<Vec<_>>()
                                .join(" "),
                            other => other.as_str().unwrap().to_string(),
                        };
                        format!("{name} {sources}")
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                found.push((key.to_string(), text));
            }
            other => panic!("{key}: unexpected {other}"),
        }
    }
    found
}

/// Sources that only ever name the app itself (or IPC).
fn is_local_source(source: &str) -> bool {
    matches!(
        source,
        "'self'" | "'none'" | "ipc:" | "http://ipc.localhost" | "data:"
    )
}

#[test]
fn csp_denies_inline_script_and_remote_content() {
    let config = config();
    for (key, csp) in csp_strings(&config) {
        let parsed = directives(&csp);
        let get = |name: &str| {
            parsed
                .get(name)
                .unwrap_or_else(|| panic!("{key}: no {name} in {csp}"))
        };

        assert_eq!(get("default-src"), &["'self'"], "{key}");
        let script = get("script-src");
        assert!(script.contains(&"'self'".to_string()), "{key}");
        for source in script {
            assert!(
                source == "'self'" || source.starts_with("'nonce-") || source.starts_with("'sha"),
                "{key}: script-src allows {source}"
            );
        }
        assert_eq!(get("object-src"), &["'none'"], "{key}");
        assert_eq!(get("base-uri"), &["'none'"], "{key}");
        assert_eq!(get("frame-src"), &["'none'"], "{key}");
        for source in get("connect-src") {
            assert!(
                source == "ipc:" || source == "http://ipc.localhost",
                "{key}: connect-src allows {source}"
            );
        }
        for source in get("img-src") {
            assert!(
                source == "'self'" || source == "data:",
                "{key}: img-src {source}"
            );
        }
        for (name, sources) in &parsed {
            for source in sources {
                assert!(
                    is_local_source(source),
                    "{key}: {name} allows non-local {source}"
                );
                assert!(
                    !source.contains("unsafe-eval") && !source.contains('*'),
                    "{key}: {name} allows {source}"
                );
            }
            if name.starts_with("script") {
                assert!(!sources.iter().any(|s| s == "data:"), "{key}: {name}");
            }
        }
    }
}

#[test]
fn the_webview_loads_only_the_bundled_ui() {
    let config = config();
    let security = &config["app"]["security"];
    assert_ne!(
        security["dangerousDisableAssetCspModification"],
        Value::Bool(true),
        "Tauri must keep adding hashes/nonces to the CSP"
    );
    assert!(security["dangerousRemoteDomainIpcAccess"].is_null());
    let dist = config["build"]["frontendDist"].as_str().unwrap();
    assert!(
        !dist.contains("://"),
        "the UI is bundled, not remote: {dist}"
    );
    if let Some(dev) = config["build"]["devUrl"].as_str() {
        assert!(dev.starts_with("http://localhost") || dev.starts_with("http://127.0.0.1"));
    }
    for window in config["app"]["windows"].as_array().unwrap() {
        if let Some(url) = window["url"].as_str() {
            assert!(!url.contains("://"), "window loads {url}");
        }
    }

    // The page itself: one external module script, no inline script or handlers.
    let html = std::fs::read_to_string(root().join("ui/static/index.html")).unwrap();
    let lower = html.to_ascii_lowercase();
    for needle in [
        "http://",
        "https://",
        "javascript:",
        " onload=",
        " onclick=",
        " onerror=",
    ] {
        assert!(!lower.contains(needle), "index.html contains {needle}");
    }
    for script in lower.split("<script").skip(1) {
        let tag_end = script.find('>').unwrap();
        assert!(script[..tag_end].contains("src="), "an inline <script>");
        assert!(
            script[tag_end + 1..].trim_start().starts_with("</script>"),
            "a script with inline code"
        );
    }
}

#[test]
fn capabilities_grant_only_the_apps_commands() {
    let allowed: BTreeSet<String> = COMMANDS
        .iter()
        .map(|command| format!("allow-{}", command.replace('_', "-")))
        .chain([
            "core:event:allow-listen".into(),
            "core:event:allow-unlisten".into(),
        ])
        .collect();
    let mut files = 0;
    for entry in std::fs::read_dir(root().join("capabilities")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        files += 1;
        let capability = read_json(&path);
        assert!(
            capability["remote"].is_null(),
            "{path:?}: remote URLs get no IPC"
        );
        assert_eq!(
            capability["windows"],
            serde_json::json!(["main"]),
            "{path:?}"
        );
        assert!(
            capability["webviews"].is_null(),
            "{path:?}: no extra webviews"
        );
        for permission in capability["permissions"].as_array().unwrap() {
            let name = permission
                .as_str()
                .unwrap_or_else(|| panic!("{path:?}: scoped permission {permission}"));
            assert!(
                allowed.contains(name),
                "{path:?}: grants {name}, which is not one of the app's commands"
            );
        }
    }
    assert!(files >= 1, "no capability file");
}

#[test]
fn generated_acl_maps_each_permission_to_exactly_its_command() {
    // Written by tauri-build (src-tauri/build.rs) when this package was built.
    let manifests = read_json(&root().join("gen/schemas/acl-manifests.json"));
    let app = &manifests["__app-acl__"]["permissions"];
    let mut granted_commands = BTreeSet::new();
    for (name, permission) in app.as_object().unwrap() {
        let list = |key: &str| -> Vec<String> {
            permission["commands"][key]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        };
        let (allow, deny) = (list("allow"), list("deny"));
        assert!(permission["scope"].is_null(), "{name} has a scope");
        if let Some(command) = name.strip_prefix("allow-") {
            assert_eq!(allow.len(), 1, "{name} allows {allow:?}");
            assert_eq!(command, allow[0].replace('_', "-"));
            assert!(deny.is_empty(), "{name}");
            granted_commands.insert(allow[0].clone());
        } else {
            assert!(name.starts_with("deny-"), "unexpected permission {name}");
            assert!(allow.is_empty(), "{name} allows {allow:?}");
        }
    }
    let commands: BTreeSet<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        granted_commands, commands,
        "ACL and registered commands differ"
    );

    // The capabilities tauri-build resolved are the ones in capabilities/.
    let resolved = read_json(&root().join("gen/schemas/capabilities.json"));
    let on_disk = read_json(&root().join("capabilities/default.json"));
    assert_eq!(
        resolved["default"]["permissions"], on_disk["permissions"],
        "gen/schemas is stale"
    );
    assert_eq!(resolved.as_object().unwrap().len(), 1, "one capability");
}

/// Every `.ts` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().and_then(|e| e.to_str()) == Some("ts") {
            found.push(path);
        }
    }
}

#[test]
fn ui_puts_data_into_the_page_only_as_text() {
    let mut files = Vec::new();
    sources(&root().join("ui/src"), &mut files);
    assert!(!files.is_empty());
    let forbidden = [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "DOMParser",
        "createContextualFragment",
        "srcdoc",
        "eval(",
        "new Function",
        "setAttribute(\"on",
        "setAttribute('on",
    ];
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for needle in forbidden {
            assert!(!text.contains(needle), "{file:?} uses {needle}");
        }
    }
    // The element builder turns strings into text nodes.
    let dom = std::fs::read_to_string(root().join("ui/src/dom.ts")).unwrap();
    assert!(dom.contains("document.createTextNode(child)"));
}
