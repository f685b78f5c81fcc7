//! Whether the deep-link scheme still has to be registered with the desktop.
//!
//! On Linux, `tauri-plugin-deep-link`'s `register_all` writes a desktop entry
//! (`<data dir>/applications/<binary>-handler.desktop`) and then runs
//! `update-desktop-database` and `xdg-mime default` (a shell script that
//! starts a dozen more processes). Done at every start, that work competes
//! with the window's own start on the CPU. It is only needed when the entry is
//! missing or stale, or when the scheme's default handler is not that entry:
//! [`registration_needed`] tells, from the two files alone.
//!
//! Registering itself is left to the plugin (`register_all`). Only this
//! question is answered here, because the plugin's own answer
//! (`is_registered`) runs `xdg-mime query default`, the same dozen processes
//! the check is meant to spare; and it does not notice a stale entry (one
//! whose `Exec` names another binary).

use std::path::Path;
use std::sync::Arc;

use passkeys_core::doctor::{entry_name_for, MimeAppsList, SchemeRegistration, SchemeState};

/// The desktop entry the plugin writes for the binary at `exe`.
pub fn desktop_entry_name(exe: &Path) -> Option<String> {
    entry_name_for(exe)
}

/// True unless the plugin's desktop entry exists, runs `exec` (`"<exec>" %u`)
/// and lists every scheme, and `mimeapps.list` makes it the default handler
/// of every scheme. Any file that cannot be read means "register". The
/// rules are the doctor's ([`SchemeRegistration::state`]), reading
/// `mimeapps.list` itself rather than starting `xdg-mime`.
pub fn registration_needed(
    data_dir: &Path,
    config_dir: &Path,
    exe: &Path,
    exec: &str,
    schemes: &[String],
) -> bool {
    let Some(entry_name) = desktop_entry_name(exe) else {
        return true;
    };
    let registration = SchemeRegistration {
        applications_dir: data_dir.join("applications"),
        entry_name,
        exec: exec.to_owned(),
        app_name: String::new(),
        schemes: schemes.to_vec(),
        defaults: Arc::new(MimeAppsList::new(config_dir.join("mimeapps.list"))),
    };
    registration.state() != SchemeState::Registered
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXE: &str = "/usr/bin/passkeys-desktop";

    fn schemes() -> Vec<String> {
        vec!["dev.passkeys.desktop".to_owned()]
    }

    fn entry(exec: &str, mime: &str) -> String {
        format!("[Desktop Entry]\nType=Application\nName=Passkeys\nExec={exec}\nTerminal=false\nMimeType={mime}\nNoDisplay=true\n")
    }

    fn write(
        dir: &Path,
        entry: Option<&str>,
        defaults: Option<&str>,
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        let data = dir.join("data");
        let config = dir.join("config");
        std::fs::create_dir_all(data.join("applications")).unwrap();
        std::fs::create_dir_all(&config).unwrap();
        if let Some(entry) = entry {
            std::fs::write(
                data.join("applications/passkeys-desktop-handler.desktop"),
                entry,
            )
            .unwrap();
        }
        if let Some(defaults) = defaults {
            std::fs::write(config.join("mimeapps.list"), defaults).unwrap();
        }
        (data, config)
    }

    fn needed(entry: Option<&str>, defaults: Option<&str>) -> bool {
        let dir = tempfile::tempdir().unwrap();
        let (data, config) = write(dir.path(), entry, defaults);
        registration_needed(&data, &config, Path::new(EXE), EXE, &schemes())
    }

    const DEFAULTS: &str =
        "[Default Applications]\nx-scheme-handler/dev.passkeys.desktop=passkeys-desktop-handler.desktop\n";

    #[test]
    fn registered_entry_and_default_need_nothing() {
        let current = entry(
            "\"/usr/bin/passkeys-desktop\" %u",
            "x-scheme-handler/dev.passkeys.desktop",
        );
        assert!(!needed(Some(&current), Some(DEFAULTS)));
        let listed = entry(
            "\"/usr/bin/passkeys-desktop\" %u",
            "text/plain;x-scheme-handler/dev.passkeys.desktop;",
        );
        let defaults = "[Added Associations]\nx-scheme-handler/dev.passkeys.desktop=other.desktop\n\n[Default Applications]\nx-scheme-handler/dev.passkeys.desktop=passkeys-desktop-handler.desktop;other.desktop;\n";
        assert!(!needed(Some(&listed), Some(defaults)));
    }

    #[test]
    fn missing_stale_or_overridden_registrations_are_redone() {
        let current = entry(
            "\"/usr/bin/passkeys-desktop\" %u",
            "x-scheme-handler/dev.passkeys.desktop",
        );
        assert!(needed(None, Some(DEFAULTS)), "no desktop entry");
        assert!(needed(Some(&current), None), "no mimeapps.list");
        let moved = entry(
            "\"/opt/old/passkeys-desktop\" %u",
            "x-scheme-handler/dev.passkeys.desktop",
        );
        assert!(needed(Some(&moved), Some(DEFAULTS)), "the binary moved");
        let other_scheme = entry("\"/usr/bin/passkeys-desktop\" %u", "x-scheme-handler/other");
        assert!(
            needed(Some(&other_scheme), Some(DEFAULTS)),
            "the scheme is not claimed"
        );
        let other_default = "[Default Applications]\nx-scheme-handler/dev.passkeys.desktop=evil.desktop;passkeys-desktop-handler.desktop\n";
        assert!(
            needed(Some(&current), Some(other_default)),
            "another app is the default"
        );
        let wrong_section = "[Added Associations]\nx-scheme-handler/dev.passkeys.desktop=passkeys-desktop-handler.desktop\n";
        assert!(
            needed(Some(&current), Some(wrong_section)),
            "only an added association"
        );
    }
}
