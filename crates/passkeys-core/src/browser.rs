//! The seam to the system browser.

use std::process::{Command, Stdio};

use url::Url;

use crate::error::{Error, Result};

/// Opens a URL in the user's browser.
///
/// Production: the app's opener (e.g. `tauri-plugin-opener`) or a
/// [`CommandBrowser`]; tests: a fake that drives the emulator's login pages.
pub trait BrowserLauncher: Send + Sync {
    /// Opens `url`; returns once the browser was asked to open it.
    ///
    /// # Errors
    /// When no browser could be started; the sign-in then shows the link to copy.
    fn open(&self, url: &Url) -> Result<()>;
}

/// Runs a configured command line with the URL, without a shell.
///
/// The command line is split on whitespace (double or single quotes group
/// words); a `{url}` word, or `{url}` inside a word, is replaced by the URL,
/// otherwise the URL is appended as the last argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandBrowser {
    program: String,
    args: Vec<String>,
}

impl CommandBrowser {
    /// Parses a command line such as `chromium --new-window {url}`.
    ///
    /// # Errors
    /// [`Error::Config`] when the line is empty or has an unclosed quote.
    pub fn new(command_line: &str) -> Result<CommandBrowser> {
        let mut words = split_words(command_line)?;
        if words.is_empty() {
            return Err(Error::Config("The browser command is empty.".into()));
        }
        let program = words.remove(0);
        Ok(CommandBrowser {
            program,
            args: words,
        })
    }

    /// The program and arguments that would run for `url`.
    pub fn command_line(&self, url: &Url) -> (String, Vec<String>) {
        let mut replaced = false;
        let mut args: Vec<String> = self
            .args
            .iter()
            .map(|arg| {
                if arg.contains("{url}") {
                    replaced = true;
                    arg.replace("{url}", url.as_str())
                } else {
                    arg.clone()
                }
            })
            .collect();
        if !replaced {
            args.push(url.to_string());
        }
        (self.program.clone(), args)
    }
}

impl BrowserLauncher for CommandBrowser {
    fn open(&self, url: &Url) -> Result<()> {
        let (program, args) = self.command_line(url);
        Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|mut child| {
                // Reap the process when it exits; the browser may outlive the sign-in.
                std::thread::spawn(move || child.wait());
            })
            .map_err(|err| {
                Error::Config(format!("Could not start the browser \"{program}\": {err}."))
            })
    }
}

fn split_words(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for ch in line.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => current.push(ch),
            None if ch == '"' || ch == '\'' => {
                quote = Some(ch);
                in_word = true;
            }
            None if ch.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(ch);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(Error::Config(format!(
            "The browser command \"{line}\" has an unclosed quote."
        )));
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://env.example/oauth/authorize?a=1&b=2").unwrap()
    }

    #[test]
    fn replaces_placeholder_or_appends() {
        let table = [
            (
                "chromium --new-window {url}",
                "chromium",
                vec![
                    "--new-window",
                    "https://env.example/oauth/authorize?a=1&b=2",
                ],
            ),
            (
                "firefox",
                "firefox",
                vec!["https://env.example/oauth/authorize?a=1&b=2"],
            ),
            (
                "\"/opt/My Browser/run\" --app={url}",
                "/opt/My Browser/run",
                vec!["--app=https://env.example/oauth/authorize?a=1&b=2"],
            ),
            (
                "  open   -a 'Google Chrome'  ",
                "open",
                vec![
                    "-a",
                    "Google Chrome",
                    "https://env.example/oauth/authorize?a=1&b=2",
                ],
            ),
        ];
        for (line, program, args) in table {
            let browser = CommandBrowser::new(line).unwrap();
            let (got_program, got_args) = browser.command_line(&url());
            assert_eq!(got_program, program, "{line}");
            assert_eq!(got_args, args, "{line}");
        }
    }

    #[test]
    fn refuses_empty_and_unclosed() {
        assert!(CommandBrowser::new("   ").is_err());
        assert!(CommandBrowser::new("browser \"unclosed").is_err());
    }

    /// Unix's `true` ignores its arguments; the URL's `&` must not be seen
    /// by a shell. (Windows has no such program that every system has.)
    #[cfg(unix)]
    #[test]
    fn runs_the_program_without_a_shell() {
        let browser = CommandBrowser::new("true {url}").unwrap();
        browser.open(&url()).unwrap();
    }

    #[test]
    fn a_browser_that_is_not_there_is_named_in_the_error() {
        let missing = CommandBrowser::new("this-browser-does-not-exist-4711").unwrap();
        let error = missing.open(&url()).unwrap_err();
        assert!(error
            .to_string()
            .contains("this-browser-does-not-exist-4711"));
    }
}
