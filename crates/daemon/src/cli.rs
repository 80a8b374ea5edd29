//! keepalived's command line (keepalived/core/main.c `long_options[]`), accepted in full
//! even where the behaviour arrives with later work, so existing unit files and scripts
//! keep working.

use std::path::PathBuf;

use clap::{ArgAction, Parser};

/// The default configuration file, as Debian's build has it.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/keepalived/keepalived.conf";

#[derive(Debug, Parser)]
#[command(
    name = "keepalived",
    disable_version_flag = true,
    disable_help_flag = true,
    // getopt_long: an option given twice takes the last value.
    args_override_self = true,
    about = "Keepalived: VRRP, IPVS and health checkers (keepalived-rs)"
)]
pub struct Cli {
    /// Use the specified configuration file
    #[arg(short = 'f', long = "use-file", value_name = "FILE")]
    pub use_file: Option<PathBuf>,
    /// Only run with VRRP subsystem
    #[arg(short = 'P', long = "vrrp")]
    pub vrrp: bool,
    /// Only run with Health-checker subsystem
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Don't run BFD subsystem
    #[arg(short = 'B', long = "no_bfd")]
    pub no_bfd: bool,
    /// Force all child processes to run, even if they have no configuration
    #[arg(long = "all")]
    pub all: bool,
    /// Log messages to local console
    #[arg(short = 'l', long = "log-console")]
    pub log_console: bool,
    /// Detailed log messages (twice for more)
    #[arg(short = 'D', long = "log-detail", action = ArgAction::Count)]
    pub log_detail: u8,
    /// Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
    #[arg(short = 'S', long = "log-facility", value_name = "FACILITY")]
    pub log_facility: Option<String>,
    /// Also log to FILE (default /tmp/keepalived.log)
    #[arg(short = 'g', long = "log-file", value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub log_file: Option<String>,
    /// Flush the log file after each write
    #[arg(long = "flush-log-file")]
    pub flush_log_file: bool,
    /// Don't log via syslog
    #[arg(short = 'G', long = "no-syslog")]
    pub no_syslog: bool,
    /// umask for file creation (in numeric form)
    #[arg(short = 'u', long = "umask", value_name = "MASK")]
    pub umask: Option<String>,
    /// Drop VIPs on transition from signal
    #[arg(short = 'X', long = "release-vips")]
    pub release_vips: bool,
    /// Don't remove VRRP VIPs and VROUTEs on daemon stop
    #[arg(short = 'V', long = "dont-release-vrrp")]
    pub dont_release_vrrp: bool,
    /// Don't remove IPVS topology on daemon stop
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub dont_release_ipvs: bool,
    /// Don't respawn child processes
    #[arg(short = 'R', long = "dont-respawn")]
    pub dont_respawn: bool,
    /// Don't fork the daemon process
    #[arg(short = 'n', long = "dont-fork")]
    pub dont_fork: bool,
    /// Dump the configuration data
    #[arg(short = 'd', long = "dump-conf")]
    pub dump_conf: bool,
    /// Use specified pidfile for parent process
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pub pid: Option<PathBuf>,
    /// Use specified pidfile for VRRP child process
    #[arg(short = 'r', long = "vrrp_pid", value_name = "FILE")]
    pub vrrp_pid: Option<PathBuf>,
    /// Enter into genhash utility mode (must be the first option)
    #[arg(short = 'T', long = "genhash")]
    pub genhash: bool,
    /// Use specified pidfile for checkers child process
    #[arg(short = 'c', long = "checkers_pid", value_name = "FILE")]
    pub checkers_pid: Option<PathBuf>,
    /// Report all address additions/deletions notified via netlink
    #[arg(short = 'a', long = "address-monitoring")]
    pub address_monitoring: bool,
    /// Use specified pidfile for BFD child process
    #[arg(short = 'b', long = "bfd_pid", value_name = "FILE")]
    pub bfd_pid: Option<PathBuf>,
    /// Enable SNMP subsystem
    #[arg(short = 'x', long = "snmp")]
    pub snmp: bool,
    /// Use the specified socket for master agent
    #[arg(short = 'A', long = "snmp-agent-socket", value_name = "FILE")]
    pub snmp_agent_socket: Option<String>,
    /// Run in network namespace NAME (overrides config)
    #[arg(short = 's', long = "namespace", value_name = "NAME")]
    pub namespace: Option<String>,
    /// Produce core dump if terminate abnormally
    #[arg(short = 'm', long = "core-dump")]
    pub core_dump: bool,
    /// Also set /proc/sys/kernel/core_pattern to PATN (default 'core')
    #[arg(short = 'M', long = "core-dump-pattern", value_name = "PATN", num_args = 0..=1, require_equals = true, default_missing_value = "core")]
    pub core_dump_pattern: Option<String>,
    /// No memory check (accepted for compatibility)
    #[arg(long = "no-mem-check")]
    pub no_mem_check: bool,
    /// Log memory checks (accepted for compatibility)
    #[arg(short = 'L', long = "mem-check-log")]
    pub mem_check_log: bool,
    /// Error if any configuration file is missing
    #[arg(short = 'e', long = "all-config")]
    pub all_config: bool,
    /// Skip configuration lines beginning '@' that don't match id (default: node name)
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,
    /// Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
    #[arg(long = "signum", value_name = "SIGFUNC")]
    pub signum: Option<String>,
    /// Check the configuration for obvious errors, output to stderr (or LOG_FILE)
    #[arg(short = 't', long = "config-test", value_name = "LOG_FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub config_test: Option<String>,
    /// Internal: read the configuration from this file descriptor
    #[arg(long = "config-fd", value_name = "FD", hide = true)]
    pub config_fd: Option<i32>,
    /// Internal: run as this child process of the watchdog (vrrp, checker)
    #[arg(long = "role", value_name = "ROLE", hide = true)]
    pub role: Option<String>,
    /// Internal: the watchdog's pid, checked by a child when it starts
    #[arg(long = "role-parent", value_name = "PID", hide = true)]
    pub role_parent: Option<i32>,
    /// Record perf data (accepted for compatibility)
    #[arg(long = "perf", value_name = "WHEN", num_args = 0..=1, require_equals = true, default_missing_value = "run")]
    pub perf: Option<String>,
    /// Debug options (accepted for compatibility)
    #[arg(long = "debug", value_name = "OPTS", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub debug: Option<String>,
    /// Serve Prometheus metrics on ADDR:PORT (GET /metrics) from the VRRP process
    #[arg(long = "metrics-listen", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Control socket of the VRRP process (default: beside its pid file, .sock)
    #[arg(long = "control-socket", value_name = "PATH")]
    pub control_socket: Option<PathBuf>,
    /// Print the running daemon's instances, state, priority, master and VIPs
    #[arg(long = "status")]
    pub status: bool,
    /// Display the version number
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// Display this help message
    #[arg(short = 'h', long = "help")]
    pub help: bool,
}

impl Cli {
    /// The configuration file to read.
    pub fn config_file(&self) -> PathBuf {
        self.use_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE))
    }
}

/// keepalived's `get_signum()` for `--signum` on Linux (Debian's build has JSON, not
/// THREAD_DUMP). Names are case-sensitive, as upstream.
pub fn signum(name: &str) -> Option<i32> {
    // SIGRTMIN/SIGRTMAX as glibc reports them on Linux (the kernel's 32/64 minus the
    // two real-time signals glibc reserves for itself).
    const SIGRTMIN: i32 = 34;
    const SIGRTMAX: i32 = 64;
    match name {
        "STOP" => Some(libc::SIGTERM),
        "RELOAD" => Some(libc::SIGHUP),
        "DATA" => Some(libc::SIGUSR1),
        "STATS" => Some(libc::SIGUSR2),
        "STATS_CLEAR" => Some(SIGRTMAX - 1),
        "JSON" => Some(SIGRTMIN + 2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signum_matches_debian_keepalived() {
        // From ../shared/lab/samples/signum.txt (keepalived 2.2.7 on Debian 12).
        for (name, n) in [
            ("STOP", 15),
            ("RELOAD", 1),
            ("DATA", 10),
            ("STATS", 12),
            ("STATS_CLEAR", 63),
            ("JSON", 36),
        ] {
            assert_eq!(signum(name), Some(n), "{name}");
        }
        assert_eq!(signum("TDUMP"), None);
        assert_eq!(signum("stop"), None);
    }

    #[test]
    fn accepts_keepalived_style_options() {
        let cli = Cli::try_parse_from([
            "keepalived",
            "-lnDD",
            "-P",
            "-f",
            "/x.conf",
            "-p",
            "/run/a.pid",
            "-r",
            "/run/b.pid",
            "--config-test",
            "-i",
            "low",
            "-S",
            "local7",
            "--all",
            "-e",
        ])
        .expect("parses");
        assert!(cli.log_console && cli.dont_fork && cli.vrrp && cli.all && cli.all_config);
        assert_eq!(cli.log_detail, 2);
        assert_eq!(cli.config_test.as_deref(), Some(""));
        assert_eq!(cli.config_id.as_deref(), Some("low"));
        assert_eq!(cli.config_file(), PathBuf::from("/x.conf"));

        let cli = Cli::try_parse_from(["keepalived", "--config-test=/tmp/t.log", "--signum=JSON"])
            .expect("parses");
        assert_eq!(cli.config_test.as_deref(), Some("/tmp/t.log"));
        assert_eq!(cli.signum.as_deref(), Some("JSON"));

        let cli = Cli::try_parse_from(["keepalived", "-r", "/a.pid", "-r", "/b.pid", "-DD", "-D"])
            .expect("repeated options parse, as with getopt_long");
        assert_eq!(cli.vrrp_pid, Some(PathBuf::from("/b.pid")));
        assert_eq!(cli.log_detail, 3);

        let cli = Cli::try_parse_from(["keepalived", "-t", "-g", "-M"]).expect("parses");
        assert_eq!(cli.log_file.as_deref(), Some(""));
        assert_eq!(cli.core_dump_pattern.as_deref(), Some("core"));
        assert_eq!(cli.config_file(), PathBuf::from(DEFAULT_CONFIG_FILE));
    }
}
