//! The table: reads what `core` and `window` wrote (and the emulator's own
//! benchmark table), prints it as Markdown and puts it into
//! `docs/benchmarks.md` between its markers.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::stats::Summary;
use crate::{BenchResult, Options};

/// Where `bench/run` writes in the document.
pub const BEGIN: &str = "<!-- bench/run: begin (generated, do not edit by hand) -->";
/// The end of it.
pub const END: &str = "<!-- bench/run: end -->";

/// The targets of issue 6.
const BINARY_TARGET_BYTES: u64 = 8_000_000;
const RATIO_TARGET: f64 = 1.15;
const SIGN_IN_TARGET_MS: f64 = 15.0;
const LIST_RENDER_TARGET_MS: f64 = 10.0;

/// Writes the report.
///
/// # Errors
/// When a result file is missing or malformed, or the document cannot be written.
pub fn run(options: &Options) -> BenchResult<()> {
    let results = Path::new(options.required("results")?);
    let core: Value = serde_json::from_str(&std::fs::read_to_string(results.join("core.json"))?)?;
    let window: Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("window.json"))?)?;

    let mut out = String::new();
    writeln!(out, "{}", machine())?;
    writeln!(out)?;
    writeln!(
        out,
        "| measure | app | baseline | app / baseline | target |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: | --- |")?;
    sizes(&mut out, options)?;
    startup(&mut out, &window)?;
    sign_in(&mut out, &core)?;
    round_trips(&mut out, &core, &window)?;
    writeln!(out)?;
    split(&mut out, &window)?;
    keychain(&mut out, &core)?;
    headless(&mut out, &core)?;
    processes(&mut out, &window)?;
    for (file, heading) in [
        (
            "emulator.md",
            "The emulator over loopback, its own benchmark (see its section above; same run):",
        ),
        (
            "broker.md",
            "The broker over loopback against straight to the emulator (see the broker's section above; same run):",
        ),
        (
            "refresh.md",
            "The emulator's refresh-token grant against oidc-provider (see the emulator's section above; same run):",
        ),
    ] {
        let table = std::fs::read_to_string(results.join(file)).unwrap_or_default();
        if !table.trim().is_empty() {
            writeln!(out)?;
            writeln!(out, "{heading}")?;
            writeln!(out)?;
            writeln!(out, "{}", table.trim())?;
        }
    }
    print!("{out}");
    if let Some(doc) = options.optional("doc") {
        write_into(Path::new(doc), &out)?;
        eprintln!("bench: updated {doc}");
    }
    Ok(())
}

/// Replaces what is between the markers (or appends them).
fn write_into(doc: &Path, table: &str) -> BenchResult<()> {
    let text = std::fs::read_to_string(doc).unwrap_or_default();
    let block = format!("{BEGIN}\n{table}{END}");
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(begin), Some(end)) if end > begin => {
            format!("{}{block}{}", &text[..begin], &text[end + END.len()..])
        }
        _ => format!("{}\n{block}\n", text.trim_end()),
    };
    std::fs::write(doc, updated)?;
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let kib: f64 = info
                .lines()
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some(format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_default();
    let kernel = command_output("uname", &["-r"]);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let webkit = command_output(
        "dpkg-query",
        &["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"],
    );
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    format!(
        "Run of {date} on {cpu}, {cores} cores, {memory}, Linux {kernel}, WebKitGTK {webkit}, under Xvfb; load average at the end {load}."
    )
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn file_size(path: Option<&str>) -> Option<u64> {
    std::fs::metadata(path?).ok().map(|meta| meta.len())
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

fn sizes(out: &mut String, options: &Options) -> BenchResult<()> {
    let app = file_size(Some(options.required("app")?)).ok_or("the app binary is missing")?;
    let baseline =
        file_size(Some(options.required("baseline")?)).ok_or("the baseline binary is missing")?;
    writeln!(
        out,
        "| stripped release binary | {} | {} | {:.2} | ≤ 8 MB: {} |",
        megabytes(app),
        megabytes(baseline),
        app as f64 / baseline as f64,
        verdict(app <= BINARY_TARGET_BYTES)
    )?;
    // The emulator ships beside the app (a sidecar the app starts on a first
    // run with nothing configured): its own row, not part of the app's target.
    if let Some(emulator) = file_size(options.optional("emulator")) {
        writeln!(
            out,
            "| &nbsp;&nbsp;the local emulator, a separate binary shipped beside it | {} | | | |",
            megabytes(emulator)
        )?;
    }
    match (
        file_size(options.optional("app-deb")),
        file_size(options.optional("baseline-deb")),
    ) {
        (Some(app), Some(baseline)) => writeln!(
            out,
            "| `.deb` | {} | {} | {:.2} | |",
            megabytes(app),
            megabytes(baseline),
            app as f64 / baseline as f64
        )?,
        _ => writeln!(out, "| `.deb` | not built | not built | | |")?,
    }
    writeln!(
        out,
        "| AppImage | fails here (the bundler downloads a tool from GitHub) | | | |"
    )?;
    Ok(())
}

fn summary(value: &Value, path: &[&str]) -> BenchResult<Summary> {
    let mut current = value;
    for key in path {
        current = current
            .get(key)
            .ok_or_else(|| format!("no {} in the results", path.join(".")))?;
    }
    Summary::from_json(current).ok_or_else(|| format!("{} is not a summary", path.join(".")).into())
}

fn ratio_row(
    out: &mut String,
    label: &str,
    app: Summary,
    baseline: Summary,
    unit: &str,
    target: bool,
) -> BenchResult<()> {
    let ratio = app.median / baseline.median;
    let goal = if target {
        format!("≤ {RATIO_TARGET}×: {}", verdict(ratio <= RATIO_TARGET))
    } else {
        String::new()
    };
    writeln!(
        out,
        "| {label} | {:.1} {unit} | {:.1} {unit} | {ratio:.2} | {goal} |",
        app.median, baseline.median
    )?;
    Ok(())
}

fn startup(out: &mut String, window: &Value) -> BenchResult<()> {
    let starts = window.get("starts").and_then(Value::as_u64).unwrap_or(0);
    let idle = window
        .get("idleAfterReadyS")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let s = &window["startup"];
    ratio_row(
        out,
        &format!(
            "cold start, process spawned → first view with session state (median of {starts})"
        ),
        summary(s, &["app", "spawnToReadyMs"])?,
        summary(s, &["baseline", "spawnToReadyMs"])?,
        "ms",
        true,
    )?;
    ratio_row(
        out,
        "&nbsp;&nbsp;of which `main` → first view (as the process measures it)",
        summary(s, &["app", "mainToReadyMs"])?,
        summary(s, &["baseline", "mainToReadyMs"])?,
        "ms",
        false,
    )?;
    ratio_row(
        out,
        &format!("idle memory, PSS of the process and its WebKit processes {idle} s after ready (median)"),
        summary(s, &["app", "pssMiB"])?,
        summary(s, &["baseline", "pssMiB"])?,
        "MiB",
        true,
    )?;
    ratio_row(
        out,
        "&nbsp;&nbsp;of which private (unshared) memory",
        summary(s, &["app", "ussMiB"])?,
        summary(s, &["baseline", "ussMiB"])?,
        "MiB",
        false,
    )?;
    let baseline_start = summary(s, &["baseline", "spawnToReadyMs"])?;
    let baseline_pss = summary(s, &["baseline", "pssMiB"])?;
    for (subject, label) in [
        ("appSignedOut", "signed out"),
        (
            "appEmbeddedEmulator",
            "first run, emulator and broker child processes",
        ),
    ] {
        let (Ok(start), Ok(pss)) = (
            summary(s, &[subject, "spawnToReadyMs"]),
            summary(s, &[subject, "pssMiB"]),
        ) else {
            continue;
        };
        let start_label = format!("&nbsp;&nbsp;cold start, app {label}");
        ratio_row(out, &start_label, start, baseline_start, "ms", false)?;
        let pss_label = format!("&nbsp;&nbsp;idle memory, app {label}");
        ratio_row(out, &pss_label, pss, baseline_pss, "MiB", false)?;
    }
    rendering(out, s)
}

/// The app draws on the CPU by default, the bare baseline composites with
/// OpenGL (Mesa's software renderer under Xvfb). These rows compare them
/// like for like: both drawn on the CPU, and both composited.
fn rendering(out: &mut String, s: &Value) -> BenchResult<()> {
    let pairs = [
        (
            "app",
            "baselineCpu",
            "both drawn on the CPU (baseline with `BARE_TAURI_CPU_RENDERING=1`)",
        ),
        (
            "appGpu",
            "baseline",
            "both composited with OpenGL (app with `PASSKEYS_GPU_RENDERING=1`)",
        ),
    ];
    for (app, baseline, label) in pairs {
        for (measure, unit, what) in [
            ("spawnToReadyMs", "ms", "cold start"),
            ("pssMiB", "MiB", "idle memory"),
        ] {
            let (Ok(a), Ok(b)) = (
                summary(s, &[app, measure]),
                summary(s, &[baseline, measure]),
            ) else {
                continue;
            };
            let row = format!("&nbsp;&nbsp;{what}, {label}");
            ratio_row(out, &row, a, b, unit, false)?;
        }
    }
    Ok(())
}

fn median_p95(summary: Summary) -> String {
    format!("{:.2} ms (p95 {:.2})", summary.median, summary.p95)
}

fn sign_in(out: &mut String, core: &Value) -> BenchResult<()> {
    for (mode, label) in [("loopback", "loopback"), ("deepLink", "deep link")] {
        let total = summary(&core["signIn"][mode], &["total"])?;
        writeln!(
            out,
            "| sign-in overhead, {label}: callback arrives → session in the keychain ({} runs) | {} | | | median ≤ {SIGN_IN_TARGET_MS} ms: {} |",
            total.runs,
            median_p95(total),
            verdict(total.median <= SIGN_IN_TARGET_MS)
        )?;
        if let Some(parts) = core["signIn"][mode]["parts"].as_object() {
            for name in [
                "sign_in.token_request",
                "sign_in.id_token_check",
                "sign_in.keychain_write",
                "rest",
            ] {
                let Some(part) = parts.get(name) else {
                    continue;
                };
                let label = part["label"].as_str().unwrap_or(name);
                if let Some(summary) = Summary::from_json(&part["ms"]) {
                    writeln!(
                        out,
                        "| &nbsp;&nbsp;{label} | {} | | | |",
                        median_p95(summary)
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn round_trips(out: &mut String, core: &Value, window: &Value) -> BenchResult<()> {
    let web = &window["webview"];
    let layout = summary(web, &["clickToRender", "layout"])?;
    writeln!(
        out,
        "| `list_passkeys` (20), the UI's call → rows in the DOM and laid out ({} runs) | {} | | | median ≤ {LIST_RENDER_TARGET_MS} ms: {} |",
        layout.runs,
        median_p95(layout),
        verdict(layout.median <= LIST_RENDER_TARGET_MS)
    )?;
    for (label, path) in [
        ("&nbsp;&nbsp;… → rows in the DOM", ["clickToRender", "dom"]),
        (
            "&nbsp;&nbsp;… → next frame (`requestAnimationFrame`)",
            ["clickToRender", "frame"],
        ),
    ] {
        writeln!(
            out,
            "| {label} | {} | | | |",
            median_p95(summary(web, &path)?)
        )?;
    }
    for (label, key) in [
        ("its parts: the UI's typed `listPasskeys` call", "apiCall"),
        ("its parts: building the 20 rows", "buildRows"),
        (
            "&nbsp;&nbsp;(the same rows without their icons)",
            "buildRowsWithoutIcons",
        ),
        ("its parts: attaching them and layout", "attachAndLayout"),
    ] {
        if let Ok(part) = summary(web, &["uiBreakdown", key]) {
            writeln!(out, "| &nbsp;&nbsp;{label} | {} | | | |", median_p95(part))?;
        }
    }
    if let Ok(own) = summary(web, &["clickToRender", "uiMeasure"]) {
        writeln!(
            out,
            "| &nbsp;&nbsp;the UI's own `performance.measure` (call → `showPasskeys` done) | {} | | | |",
            median_p95(own)
        )?;
    }
    for (label, value, path) in [
        (
            "`list_passkeys` (20), the command from the page (`invoke` → answer), icons known",
            web,
            &["listCommand"][..],
        ),
        (
            "`list_passkeys` (20), the client core alone",
            core,
            &["calls", "listPasskeys"][..],
        ),
        (
            "`rename_passkey`, the command from the page",
            web,
            &["renameCommand"][..],
        ),
        (
            "`rename_passkey`, the client core alone",
            core,
            &["calls", "renamePasskey"][..],
        ),
    ] {
        writeln!(
            out,
            "| {label} | {} | | | |",
            median_p95(summary(value, path)?)
        )?;
        if path == ["listCommand"] {
            if let Ok(all) = summary(web, &["listCommandAllIcons"]) {
                writeln!(
                    out,
                    "| &nbsp;&nbsp;the same with no icon known (the UI's first call) | {} | | | |",
                    median_p95(all)
                )?;
            }
        }
    }
    let bytes = &web["listAnswerBytes"];
    if let (Some(known), Some(all)) = (bytes["iconsKnown"].as_u64(), bytes["allIcons"].as_u64()) {
        writeln!(
            out,
            "\nThe `list_passkeys` answer for 20 passkeys: {known} bytes of JSON with the icons known, {all} bytes with every icon (the first call)."
        )?;
    }
    if let Some(precision) = web.get("timerPrecisionMs").and_then(Value::as_f64) {
        writeln!(
            out,
            "\nThe page's timer (`performance.now()`) ticks in steps of {precision:.3} ms."
        )?;
    }
    Ok(())
}

fn processes(out: &mut String, window: &Value) -> BenchResult<()> {
    for subject in [
        "app",
        "baseline",
        "appGpu",
        "baselineCpu",
        "appSignedOut",
        "appEmbeddedEmulator",
    ] {
        let Some(list) = window["startup"][subject]["processes"].as_array() else {
            continue;
        };
        let parts: Vec<String> = list
            .iter()
            .filter_map(|p| {
                Some(format!(
                    "{} {:.1} MiB (private {:.1})",
                    p["process"].as_str()?,
                    p["pssMiB"].as_f64()?,
                    p["ussMiB"].as_f64()?
                ))
            })
            .collect();
        writeln!(
            out,
            "PSS by process ({subject}, the start with the median PSS): {}.",
            parts.join(", ")
        )?;
    }
    Ok(())
}

fn keychain(out: &mut String, core: &Value) -> BenchResult<()> {
    let operations: Vec<String> = [
        "set",
        "get",
        "delete",
        "setWholeSession",
        "replaceWholeSession",
        "setWholeSessionEntryPerCall",
        "replaceWholeSessionEntryPerCall",
    ]
    .iter()
    .filter_map(|operation| {
        let summary = Summary::from_json(&core["keychain"][operation])?;
        Some(format!("{operation} {}", median_p95(summary)))
    })
    .collect();
    if !operations.is_empty() {
        writeln!(
            out,
            "One keychain operation (Secret Service through the app's one session, a 1,200-character value; `…WholeSession`: 3,600 characters in one entry, new or replaced; `…EntryPerCall`: through one `keyring` entry, a new connection and session, per call, as earlier versions did): {}.",
            operations.join(", ")
        )?;
    }
    Ok(())
}

fn headless(out: &mut String, core: &Value) -> BenchResult<()> {
    let (Some(signed_in), Some(signed_out)) = (
        Summary::from_json(&core["headless"]["signedIn"]),
        Summary::from_json(&core["headless"]["signedOut"]),
    ) else {
        return Ok(());
    };
    writeln!(
        out,
        "The app's command line, `status` (configuration, client core, keychain read, no window; {} runs): signed in {}, signed out {}.",
        signed_in.runs,
        median_p95(signed_in),
        median_p95(signed_out)
    )?;
    Ok(())
}

fn split(out: &mut String, window: &Value) -> BenchResult<()> {
    let app = &window["webview"]["startupBreakdown"];
    let baseline = &window["baselineStartupBreakdown"];
    let field = |value: &Value, key: &str| {
        value[key]
            .as_f64()
            .map_or("?".to_owned(), |ms| format!("{ms:.0} ms"))
    };
    if app.is_null() || baseline.is_null() {
        return Ok(());
    }
    writeln!(
        out,
        "One start each under WebDriver, split at the page's navigation: `main` → navigation app {}, baseline {}; navigation → `DOMContentLoaded` app {}, baseline {}; navigation → ready app {}, baseline {}.",
        field(app, "mainToNavigation"),
        field(baseline, "mainToNavigation"),
        field(app, "navigationToDomContentLoaded"),
        field(baseline, "navigationToDomContentLoaded"),
        field(app, "navigationToReady"),
        field(baseline, "navigationToReady"),
    )?;
    Ok(())
}
