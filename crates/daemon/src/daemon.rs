//! `keepalived -f FILE` without `-t`: keepalived's three processes.
//!
//! Without `-n` the command starts itself again detached (`--dont-fork`) and returns
//! 0, as keepalived's `xdaemon()` does. The detached process is the parent (watchdog,
//! [`crate::parent`]); it starts a VRRP child and a checker child ([`crate::child`]) by
//! executing itself again with the hidden `--role` option, when the configuration has
//! work for them. This module holds what the three share: the options, loading the
//! configuration, the namespace, pid file names and the per-process log setup.

use std::path::{Path, PathBuf};

use tracing::{error, info};

use crate::logging::{self, LogOptions};
use crate::process::{self, PidPaths, Role};
use crate::vrrp::RuntimeOptions;

/// keepalived's exit codes (`KEEPALIVED_EXIT_*`, lib/scheduler.h). A child exiting
/// with FATAL, CONFIG or MISSING_PERMISSION is not restarted: the daemon stops.
pub mod exit_code {
    pub const OK: i32 = 0;
    pub const FATAL: i32 = 1;
    pub const CONFIG: i32 = 2;
    pub const MISSING_PERMISSION: i32 = 4;
    pub const NO_CONFIG: i32 = 6;

    /// keepalived `report_child_status()`: the name of a permanent error, if `code` is one.
    pub fn permanent(code: i32) -> Option<&'static str> {
        match code {
            FATAL => Some("FATAL"),
            CONFIG => Some("CONFIG"),
            MISSING_PERMISSION => Some("missing permission"),
            _ => None,
        }
    }
}

/// What `main` passes down from the command line.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The command line as given (children and the config check re-use it).
    pub args: Vec<String>,
    pub config_file: PathBuf,
    pub load: config::LoadOptions,
    /// `-n`.
    pub dont_fork: bool,
    /// Console, syslog, detail and facility; the ident and the `-g` file name are
    /// completed per process ([`DaemonOptions::log_for`]).
    pub log: LogOptions,
    /// `-p`.
    pub pid_file: Option<PathBuf>,
    /// `-r`.
    pub vrrp_pid_file: Option<PathBuf>,
    /// `-c`.
    pub checker_pid_file: Option<PathBuf>,
    /// `-s`.
    pub namespace: Option<String>,
    /// `-P`.
    pub vrrp_only: bool,
    /// `-C`.
    pub checker_only: bool,
    /// `--all`.
    pub all: bool,
    /// `-R`.
    pub dont_respawn: bool,
    /// `-I`.
    pub dont_release_ipvs: bool,
    /// `-u`, already parsed.
    pub umask: Option<u32>,
    /// `-m`.
    pub core_dump: bool,
    /// `-M[PATTERN]`.
    pub core_pattern: Option<String>,
    /// The hidden `--role`: which child this process is (None: the parent).
    pub role: Option<Role>,
    /// The hidden `--role-parent`: the watchdog's pid.
    pub role_parent: Option<i32>,
    pub runtime: RuntimeOptions,
    /// `--metrics-listen`, `--control-socket`.
    pub observe: crate::status::ObserveOptions,
}

pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the daemon (the parent, or the child named by `--role`); returns the exit code.
pub fn run(options: &DaemonOptions) -> i32 {
    if let Some(bits) = options.umask {
        process::set_umask(bits);
    }
    if options.core_dump
        && let Err(e) = process::enable_core_dumps()
    {
        eprintln!("Failed to set core file size: {e}");
    }
    match options.role {
        Some(role @ (Role::Vrrp | Role::Checker)) => crate::child::run(options, role),
        _ => {
            if !options.config_file.exists() {
                // keepalived checks the file before daemonising and exits NO_CONFIG.
                eprintln!(
                    "Unable to find configuration file {}",
                    options.config_file.display()
                );
                return exit_code::NO_CONFIG;
            }
            if !options.dont_fork {
                return match process::respawn_detached(&options.args) {
                    Ok(_) => 0,
                    Err(e) => {
                        eprintln!("keepalived: {e}");
                        1
                    }
                };
            }
            crate::parent::run(options)
        }
    }
}

impl DaemonOptions {
    /// The log setup of one process: keepalived's ident (`Keepalived_vrrp[_NS][_INSTANCE]`)
    /// and its own `-g` file (`keepalived_vrrp.log`).
    pub fn log_for(&self, role: Role, settings: &Settings) -> LogOptions {
        let namespace = settings.namespace.as_deref();
        let instance = settings.instance.as_deref();
        LogOptions {
            ident: process::syslog_ident(role, namespace, instance),
            file: self
                .log
                .file
                .as_deref()
                .map(|name| logging::log_file_name(name, role.log_file_tag(), namespace, instance)),
            ..self.log.clone()
        }
    }

    /// Whether `role`'s process runs for a configuration with `work` (keepalived
    /// `running_vrrp()`, `running_checker()`).
    pub fn wants(&self, role: Role, work: Work) -> bool {
        // -P/-C pick subsystems; with neither, all of them run.
        let picked = !self.vrrp_only && !self.checker_only;
        match role {
            Role::Parent => true,
            Role::Vrrp => (picked || self.vrrp_only) && (self.all || work.vrrp),
            Role::Checker => (picked || self.checker_only) && (self.all || work.checker),
        }
    }
}

/// Which subsystems a configuration gives work to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// keepalived's `have_vrrp_config`: any VRRP keyword that gives the child work.
    pub vrrp: bool,
    /// keepalived's `have_checker_config`.
    pub checker: bool,
}

impl Work {
    pub fn of(config: &config::Config) -> Work {
        let vrrp = &config.vrrp;
        Work {
            vrrp: config.present.vrrp
                || !vrrp.instances.is_empty()
                || !vrrp.sync_groups.is_empty()
                || !vrrp.static_addresses.is_empty()
                || !vrrp.static_routes.is_empty()
                || !vrrp.static_rules.is_empty(),
            checker: config.present.checker || config.lvs.have_checker_config,
        }
    }
}

/// What the parent keeps of a configuration: the global settings and which
/// subsystems have work; the children read their own copy. At 1000 instances the
/// whole configuration is ~2 MB the parent would hold for nothing.
#[derive(Debug)]
pub struct ParentConfig {
    pub global: config::model::GlobalConfig,
    pub work: Work,
}

impl ParentConfig {
    /// Keeps what the parent needs; the rest of `config` is freed on return.
    pub fn of(config: config::Config) -> ParentConfig {
        let work = Work::of(&config);
        ParentConfig {
            global: config.global,
            work,
        }
    }
}

/// What every process derives from the command line and the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `-s` or `net_namespace`.
    pub namespace: Option<String>,
    /// `instance NAME`.
    pub instance: Option<String>,
    pub pid_paths: PidPaths,
}

impl Settings {
    pub fn of(options: &DaemonOptions, config: &config::Config) -> Settings {
        let namespace = options
            .namespace
            .clone()
            .or_else(|| config.global.net_namespace.clone());
        let instance = config.global.instance.clone();
        let pid_paths = PidPaths::resolve(
            [
                options.pid_file.as_deref(),
                options.vrrp_pid_file.as_deref(),
                options.checker_pid_file.as_deref(),
            ],
            instance.as_deref(),
            namespace.as_deref(),
            config.global.use_pid_dir,
        );
        Settings {
            namespace,
            instance,
            pid_paths,
        }
    }

    /// `reload_file`: keepalived's default path or the one given.
    pub fn reload_file(&self, global: &config::model::GlobalConfig) -> Option<PathBuf> {
        match global.reload_file.as_ref()? {
            config::model::global::ReloadFile::Path(path) => Some(PathBuf::from(path)),
            config::model::global::ReloadFile::Default => Some(PidPaths::default_reload_file(
                self.instance.as_deref(),
                self.namespace.as_deref(),
                global.use_pid_dir,
            )),
        }
    }
}

/// Loads the configuration.
pub fn load(options: &DaemonOptions) -> config::Loaded {
    config::load_file(&options.config_file, &options.load, &config::HostSystem)
}

/// What keepalived's parent reads at a reload: global_defs and which root blocks are
/// present. The children read (and validate) the whole configuration themselves, so
/// reading it here too would only delay their reload.
pub fn load_globals(options: &DaemonOptions) -> config::Loaded {
    let load = config::LoadOptions {
        global_only: true,
        ..options.load.clone()
    };
    config::load_file(&options.config_file, &load, &config::HostSystem)
}

/// Enters `-s NETNS` and loads the configuration, entering its `net_namespace` and
/// loading again when there is one (interfaces are checked in the namespace). Must run
/// before any thread or socket exists.
pub fn enter_namespace_and_load(options: &DaemonOptions) -> Result<config::Loaded, i32> {
    if let Some(ns) = &options.namespace
        && let Err(e) = process::enter_netns(ns)
    {
        error!("{e}");
        return Err(exit_code::FATAL);
    }
    let loaded = load(options);
    if options.namespace.is_none()
        && let Some(ns) = loaded.config.global.net_namespace.clone()
    {
        if let Err(e) = process::enter_netns(&ns) {
            error!("Unable to set network namespace {ns} - exiting: {e}");
            return Err(exit_code::FATAL);
        }
        return Ok(load(options));
    }
    Ok(loaded)
}

/// Whether a loaded configuration cannot run at all (keepalived exits CONFIG there).
pub fn unrunnable(loaded: &config::Loaded) -> bool {
    let code = loaded.exit_code();
    code == config::diag::exit_code::UNRUNNABLE || code == config::diag::exit_code::ABORTED
}

/// Creates the directories of the pid files we are going to write.
pub fn create_pid_dirs(paths: &[&Path]) {
    for dir in paths.iter().filter_map(|p| p.parent()) {
        if !dir.as_os_str().is_empty()
            && !dir.exists()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            info!("cannot create pid directory {}: {e}", dir.display());
        }
    }
}
