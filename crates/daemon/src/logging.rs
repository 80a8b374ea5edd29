//! Logging in keepalived's format, through `tracing`.
//!
//! keepalived's console log (`-l`) is `Sun Nov 22 02:08:30 2026: message` on stdout;
//! users grep these lines (`(VI_1) Entering MASTER STATE`), so the message texts are
//! keepalived's and the format carries no level or target. `-D` (detail) enables the
//! lines keepalived only prints with `-D`; we emit those at DEBUG. Without `-G` the
//! lines also go to syslog over `/dev/log` (RFC 3164, facility daemon or `-S`), with
//! keepalived's idents (`Keepalived`, `Keepalived_vrrp`, `Keepalived_healthcheckers`);
//! `-g[FILE]` appends them to a per-process file (`keepalived_vrrp.log`, as keepalived
//! names them).
//!
//! Under systemd (`JOURNAL_STREAM` naming our stderr) the console lines go to stderr
//! with a `<N>` priority prefix and no timestamp, which journald parses; syslog keeps
//! the idents, so `journalctl -t Keepalived_vrrp` works as with keepalived.

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
    /// syslog facility code (`-S`; 3 = daemon).
    pub facility: u8,
    /// Console lines in journald's format on stderr (run by systemd).
    pub journal: bool,
}

/// The syslog facility of `LOG_DAEMON`, keepalived's default.
pub const FACILITY_DAEMON: u8 = 3;

/// `-S`: keepalived accepts `0`..`7` and `local0`..`local7` (LOG_LOCALn), `daemon`
/// and `user`.
pub fn parse_facility(text: &str) -> Option<u8> {
    let local = text.strip_prefix("local").unwrap_or(text);
    if let Ok(n) = local.parse::<u8>() {
        return (n <= 7).then_some(16 + n);
    }
    match text {
        "daemon" => Some(FACILITY_DAEMON),
        "user" => Some(1),
        _ => None,
    }
}

/// Whether stderr is connected to the journal: systemd sets `JOURNAL_STREAM` to the
/// `device:inode` of the stream it gave us (its documented test).
pub fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(stream) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    stream == format!("{}:{}", meta.dev(), meta.ino())
}

/// keepalived's `make_file_name()` for `-g`: the tag, namespace and instance are
/// inserted before the extension (`/tmp/keepalived.log` becomes
/// `/tmp/keepalived_vrrp.log`); a relative name is taken in `$TMPDIR` or `/tmp`.
pub fn log_file_name(
    name: &std::path::Path,
    tag: Option<&str>,
    namespace: Option<&str>,
    instance: Option<&str>,
) -> std::path::PathBuf {
    let text = name.to_string_lossy();
    let base = if name.is_absolute() {
        text.to_string()
    } else {
        let tmp = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".to_string());
        format!("{tmp}/{text}")
    };
    let dir_end = base.rfind('/').map_or(0, |i| i + 1);
    let (stem, extension) = match base[dir_end..].rfind('.') {
        Some(dot) => base.split_at(dir_end + dot),
        None => (base.as_str(), ""),
    };
    let mut out = stem.to_string();
    for part in [tag, namespace, instance].into_iter().flatten() {
        out.push('_');
        out.push_str(part);
    }
    out.push_str(extension);
    std::path::PathBuf::from(out)
}

struct Sinks {
    console: bool,
    journal: bool,
    facility: u8,
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
        let severity = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            _ => 7,
        };
        if sinks.console && sinks.journal {
            // journald: `<severity>` prefix, its own timestamps.
            let mut out = std::io::stderr().lock();
            let _ = writeln!(out, "<{severity}>{message}");
        } else if sinks.console {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{stamp}: {message}");
            let _ = out.flush();
        }
        if let Some(file) = sinks.file.as_mut() {
            let _ = writeln!(file, "{stamp}: {message}");
        }
        if let Some(socket) = sinks.syslog.as_ref() {
            // RFC 3164: <PRI>TIMESTAMP IDENT[PID]: MSG.
            let pri = u16::from(sinks.facility) * 8 + severity;
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
            journal: options.journal,
            facility: options.facility,
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

/// Howard Hinnant's civil-from-days: (year, month 1..=12, day 1..=31) of a day
/// number counted from 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), day)
}

/// The inverse: the day number of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil(time: SystemTime) -> Civil {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let month_index = i64::from(month) - 1;
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

/// An RFC 5322 date for mail headers, keepalived's `%a, %d %b %Y %H:%M:%S %z` (in UTC).
pub fn mail_date(time: SystemTime) -> String {
    let c = civil(time);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        c.weekday, c.day, c.month, c.year, c.hour, c.minute, c.second
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
    fn facilities_as_keepalived_accepts_them() {
        assert_eq!(parse_facility("0"), Some(16));
        assert_eq!(parse_facility("local7"), Some(23));
        assert_eq!(parse_facility("daemon"), Some(3));
        assert_eq!(parse_facility("user"), Some(1));
        assert_eq!(parse_facility("8"), None);
        assert_eq!(parse_facility("local8"), None);
        assert_eq!(parse_facility("kern"), None);
    }

    #[test]
    fn log_file_names_as_keepalived_makes_them() {
        use std::path::{Path, PathBuf};
        let name = Path::new("/var/log/keepalived.log");
        assert_eq!(
            log_file_name(name, None, None, None),
            PathBuf::from("/var/log/keepalived.log")
        );
        assert_eq!(
            log_file_name(name, Some("vrrp"), Some("ns"), Some("i")),
            PathBuf::from("/var/log/keepalived_vrrp_ns_i.log")
        );
        assert_eq!(
            log_file_name(Path::new("/a.b/log"), Some("check"), None, None),
            PathBuf::from("/a.b/log_check")
        );
    }

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
