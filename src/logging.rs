//! Log output fit for cron mail and for people: by default one plain line per problem
//! (`warning: Example: source failed: cannot resolve example.org`), no colour unless stderr is
//! a terminal and `NO_COLOR` is unset; the structured form with `-v` or `--log-format full`,
//! one JSON object per event with `--log-format json`.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::cli::{Cli, LogFormat};

pub(crate) fn init(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let format = cli.log_format.unwrap_or(if cli.verbose > 0 {
        LogFormat::Full
    } else {
        LogFormat::Plain
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(colour);
    match format {
        LogFormat::Plain => builder.event_format(Plain).init(),
        LogFormat::Full => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// `level: source: message: error (other fields)`, nothing else.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        let mut f = Fields::default();
        event.record(&mut f);
        let mut line = if writer.has_ansi_escapes() {
            let colour = match *event.metadata().level() {
                Level::ERROR => "31",
                Level::WARN => "33",
                _ => "2",
            };
            format!("\x1b[{colour}m{level}\x1b[0m: ")
        } else {
            format!("{level}: ")
        };
        if let Some(source) = &f.source {
            let _ = write!(line, "{source}: ");
        }
        line.push_str(&f.message);
        if let Some(cause) = &f.cause {
            let _ = write!(line, ": {cause}");
        }
        if !f.other.is_empty() {
            let _ = write!(line, " ({})", f.other.join(", "));
        }
        writeln!(writer, "{line}")
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    source: Option<String>,
    cause: Option<String>,
    other: Vec<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let v = format!("{value:?}");
        self.record_str(field, v.trim_matches('"'));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "source" => self.source = Some(value.to_string()),
            "error" | "warning" => self.cause = Some(value.to_string()),
            name => self.other.push(format!("{name} {value}")),
        }
    }
}
