//! The `keepalived` binary.
//!
//! The command line, `--signum`, `-v`, `-h`, `-t/--config-test` (with `-d`), and
//! running the daemon (`daemon::daemon`): the parent process, or one of its children
//! when started with the hidden `--role`.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::Cli;
use daemon::process::Role;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // `genhash` (argv[0]) or `keepalived -T ...`, as upstream; before any runtime starts.
    if check::genhash::is_genhash_invocation(&args) {
        return ExitCode::from(u8::try_from(check::genhash::main(&args)).unwrap_or(1));
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(1);
        }
    };
    ExitCode::from(u8::try_from(run(&cli)).unwrap_or(1))
}

fn run(cli: &Cli) -> i32 {
    if cli.help {
        print_help();
        return 0;
    }
    if cli.version {
        print_version();
        return 0;
    }
    if let Some(name) = &cli.signum {
        return match cli::signum(name) {
            Some(n) => {
                println!("{n}");
                0
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                1
            }
        };
    }
    if cli.genhash {
        // -T anywhere but first: upstream requires it to be the first option.
        eprintln!("keepalived: -T/--genhash must be the first option");
        return 1;
    }
    if let Some(log_file) = &cli.config_test {
        return config_test(cli, log_file);
    }
    let args: Vec<String> = std::env::args().collect();
    if cli.status {
        return status(cli, args);
    }
    match daemon_options(cli, args) {
        Ok(options) => daemon::daemon::run(&options),
        Err(message) => {
            eprintln!("{message}");
            1
        }
    }
}

/// `--status`: the running VRRP process's table, from its control socket (found as
/// the daemon finds it: `--control-socket`, else beside the VRRP pid file that `-r`,
/// `-s` and the configuration's `instance`/`net_namespace` give).
fn status(cli: &Cli, args: Vec<String>) -> i32 {
    let options = match daemon_options(cli, args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return 1;
        }
    };
    let path = match &options.observe.control_socket {
        Some(path) => path.clone(),
        None => {
            let loaded = daemon::daemon::load(&options);
            let settings = daemon::daemon::Settings::of(&options, &loaded.config);
            daemon::status::socket_path(&options.observe, &settings.pid_paths.vrrp)
        }
    };
    match daemon::status::query(&path) {
        Ok(status) => {
            print!("{}", status.table());
            0
        }
        Err(e) => {
            eprintln!("keepalived: {e}");
            1
        }
    }
}

fn daemon_options(cli: &Cli, args: Vec<String>) -> Result<daemon::daemon::DaemonOptions, String> {
    let role = match cli.role.as_deref() {
        None => None,
        Some(text) => Some(Role::from_arg(text).ok_or_else(|| format!("unknown role {text}"))?),
    };
    let umask = cli
        .umask
        .as_deref()
        .map(daemon::process::parse_umask)
        .transpose()
        .map_err(|e| e.to_string())?;
    let facility = match cli.log_facility.as_deref() {
        None => daemon::logging::FACILITY_DAEMON,
        Some(text) => daemon::logging::parse_facility(text)
            .ok_or_else(|| format!("Invalid log facility '{text}'"))?,
    };
    // Under systemd the console lines go to the journal's stream (stderr).
    let journal = daemon::logging::stderr_is_journal();
    Ok(daemon::daemon::DaemonOptions {
        args,
        config_file: cli.config_file(),
        load: load_options(cli),
        dont_fork: cli.dont_fork,
        log: daemon::logging::LogOptions {
            console: cli.log_console,
            syslog: !cli.no_syslog,
            file: cli.log_file.as_ref().map(|f| {
                if f.is_empty() {
                    std::path::PathBuf::from("/tmp/keepalived.log")
                } else {
                    std::path::PathBuf::from(f)
                }
            }),
            detail: cli.log_detail,
            ident: Role::Parent.program().to_string(),
            facility,
            journal,
        },
        pid_file: cli.pid.clone(),
        vrrp_pid_file: cli.vrrp_pid.clone(),
        checker_pid_file: cli.checkers_pid.clone(),
        namespace: cli.namespace.clone(),
        vrrp_only: cli.vrrp,
        checker_only: cli.check,
        all: cli.all,
        dont_respawn: cli.dont_respawn,
        dont_release_ipvs: cli.dont_release_ipvs,
        umask,
        core_dump: cli.core_dump || cli.core_dump_pattern.is_some(),
        core_pattern: cli.core_dump_pattern.clone(),
        role,
        role_parent: cli.role_parent,
        observe: daemon::status::ObserveOptions {
            metrics_listen: cli.metrics_listen,
            control_socket: cli.control_socket.clone(),
        },
        runtime: daemon::vrrp::RuntimeOptions {
            dont_release_vrrp: cli.dont_release_vrrp,
            release_vips: cli.release_vips,
            address_monitoring: cli.address_monitoring,
            log_detail: cli.log_detail > 0,
        },
    })
}

fn load_options(cli: &Cli) -> config::LoadOptions {
    config::LoadOptions {
        reader: config::ReaderOptions {
            config_id: cli.config_id.clone(),
            all_config: cli.all_config,
            instance: None,
            generated_line_limit: None,
        },
        global_only: false,
    }
}

/// `-t [LOG_FILE]`: print every diagnostic and exit with keepalived's config-test code.
fn config_test(cli: &Cli, log_file: &str) -> i32 {
    let path = cli.config_file();
    let loaded = config::load_file(&path, &load_options(cli), &config::HostSystem);
    let mut text = loaded.render();
    if cli.dump_conf {
        text.push_str(&format!("{:#?}\n", loaded.config));
    }
    if log_file.is_empty() {
        eprint!("{text}");
    } else {
        let opened = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_file);
        match opened {
            Ok(mut f) => {
                if let Err(e) = f.write_all(text.as_bytes()) {
                    eprintln!("Unable to write config-test log file {log_file}: {e}");
                    return 1;
                }
            }
            Err(e) => {
                eprintln!("Unable to open config-test log file {log_file}: {e}");
                return 1;
            }
        }
    }
    loaded.exit_code()
}

fn print_version() {
    let uname = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    // Exporters (e.g. keepalived-exporter) grep this output for `--enable-json`.
    eprintln!(
        "Keepalived v{VERSION} (keepalived-rs)\n\n\
         Running on Linux {}\n\n\
         configure options: --enable-json --enable-bfd --enable-regex --enable-vrrp-auth --enable-vmac\n\n\
         Config options:  LVS REGEX VRRP VRRP_AUTH VRRP_VMAC JSON BFD OLD_CHKSUM_COMPAT\n",
        uname.trim()
    );
}

fn print_help() {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let _ = cmd.print_help();
    println!();
}
