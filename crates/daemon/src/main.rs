//! The `keepalived` binary.
//!
//! Today: the command line, `--signum`, `-v`, `-h`, and `-t/--config-test` (with `-d`).
//! The VRRP and checker processes arrive with later work; until then running without
//! `-t` checks the configuration and says what is missing, rather than pretending.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::Cli;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
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
        eprintln!("keepalived: genhash mode is not implemented yet");
        return 1;
    }
    if let Some(log_file) = &cli.config_test {
        return config_test(cli, log_file);
    }
    eprintln!(
        "keepalived: the VRRP and checker processes are not implemented yet; use -t to check {}",
        cli.config_file().display()
    );
    1
}

fn load_options(cli: &Cli) -> config::LoadOptions {
    config::LoadOptions {
        reader: config::ReaderOptions {
            config_id: cli.config_id.clone(),
            all_config: cli.all_config,
            instance: None,
        },
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
