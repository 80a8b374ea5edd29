//! Logging in keepalived's format, through `tracing`.
//!
//! keepalived's console log (`-l`) is `Sun Nov 22 02:08:30 2026: message` on stdout;
//! users grep these lines (`(VI_1) Entering MASTER STATE`), so the message texts are
//! keepalived's and the format carries no level or target. `-D` (detail) enables the
//! lines keepalived only prints with `-D`; we emit those at DEBUG. Without `-G` the
//! lines also go to syslog over `/dev/log` (RFC 3164, facility daemon), as keepalived
//! does by default; `-g[FILE]` appends them to a file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::net::UnixDatagram;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Where log lines go and how much detail.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `-l`: console (stdout).
    pub console: bool,
    /// `-G` not given: syslog over /dev/log.
    pub syslog: bool,
    /// `-g FILE`.
    pub file: Option<std::path::PathBuf>,
    /// `-D` count.
    pub detail: u8,
    /// syslog identity ("Keepalived_vrrp").
    pub ident: String,
}

struct Sinks {
    console: bool,
    syslog: Option<UnixDatagram>,
    file: Option<std::fs::File>,
    ident: String,
}

/// A `tracing` layer writing keepalived-format lines.
struct KeepalivedLayer {
    sinks: Mutex<Sinks>,
}

struct MessageVisitor<'a>(&'a mut String);

impl Visit for MessageVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for KeepalivedLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut message = String::new();
        event.record(&mut MessageVisitor(&mut message));
        let Ok(mut sinks) = self.sinks.lock() else {
            return;
        };
        let stamp = console_timestamp(SystemTime::now());
        if sinks.console {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{stamp}: {message}");
            let _ = out.flush();
        }
        if let Some(file) = sinks.file.as_mut() {
            let _ = writeln!(file, "{stamp}: {message}");
        }
        if let Some(socket) = sinks.syslog.as_ref() {
            // RFC 3164: <PRI>TIMESTAMP IDENT[PID]: MSG; facility daemon (3).
            let severity = match *event.metadata().level() {
                Level::ERROR => 3,
                Level::WARN => 4,
                Level::INFO => 6,
                _ => 7,
            };
            let pri = 3 * 8 + severity;
            let line = format!(
                "<{pri}>{} {}[{}]: {message}",
                syslog_timestamp(SystemTime::now()),
                sinks.ident,
                std::process::id()
            );
            let _ = socket.send(line.as_bytes());
        }
    }
}

/// Installs the global subscriber. Calling it twice keeps the first.
pub fn init(options: &LogOptions) {
    let syslog = if options.syslog {
        UnixDatagram::unbound()
            .ok()
            .filter(|s| s.connect("/dev/log").is_ok())
    } else {
        None
    };
    let file = options.file.as_ref().and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    let level = match options.detail {
        0 => LevelFilter::INFO,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let layer = KeepalivedLayer {
        sinks: Mutex::new(Sinks {
            console: options.console,
            syslog,
            file,
            ident: options.ident.clone(),
        }),
    };
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(level));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Broken-down UTC time: (weekday name, month name, day, h, m, s, year).
struct Civil {
    weekday: &'static str,
    month: &'static str,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
    year: i64,
}

fn civil(time: SystemTime) -> Civil {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month_index = if mp < 10 { mp + 2 } else { mp - 10 };
    let year = yoe + era * 400 + i64::from(month_index <= 1);
    Civil {
        weekday: DAYS
            .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
            .copied()
            .unwrap_or("Thu"),
        month: MONTHS
            .get(usize::try_from(month_index).unwrap_or(0))
            .copied()
            .unwrap_or("Jan"),
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        second: rem % 60,
        year,
    }
}

/// keepalived's console timestamp, `ctime()` style: `Sun Nov 22 02:08:30 2026` (UTC).
pub fn console_timestamp(time: SystemTime) -> String {
    let c = civil(time);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        c.weekday, c.month, c.day, c.hour, c.minute, c.second, c.year
    )
}

fn syslog_timestamp(time: SystemTime) -> String {
    let c = civil(time);
    format!(
        "{} {:2} {:02}:{:02}:{:02}",
        c.month, c.day, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn console_timestamp_matches_keepalived_ctime_format() {
        // 2026-11-22 02:08:30 UTC, a Sunday (from the lab's keepalived log).
        let t = UNIX_EPOCH + Duration::from_secs(1_795_313_310);
        assert_eq!(console_timestamp(t), "Sun Nov 22 02:08:30 2026");
        assert_eq!(console_timestamp(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(console_timestamp(leap), "Tue Feb 29 00:00:00 2000");
    }
}
