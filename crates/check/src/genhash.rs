//! `genhash` (keepalived `check_genhash.c`): fetch one URL and print the MD5 of
//! its body, the value HTTP_GET's `digest` expects. Run as `genhash ...` or
//! `keepalived -T|--genhash ...`.
//!
//! Output as keepalived 2.2.7: the digest in lower-case hex on stdout; a failed
//! connection prints keepalived's message ("Connection failed", ...) on stdout and
//! still exits 0; bad options print the usage on stderr and exit 1.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use config::model::lvs::HttpProtocol;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::http::{self, ResponseReader};
use crate::probe::{CheckError, Target, connect};
use crate::tls::TlsSettings;

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub verbose: bool,
    pub ssl: bool,
    pub sni: bool,
    pub server: IpAddr,
    pub port: u16,
    pub url: String,
    pub virtualhost: Option<String>,
    pub fwmark: Option<u32>,
    pub protocol: HttpProtocol,
    /// `None`: no timeout (keepalived: UINT_MAX).
    pub timeout: Option<Duration>,
}

/// Why the command line was rejected (printed before the usage).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// Help asked for, or too few arguments: usage only.
    #[error("")]
    Usage,
    #[error("{0}")]
    Message(String),
}

fn usage(prog: &str, am_genhash: bool) -> String {
    format!(
        "Usage: {prog}{} COMMAND [OPTIONS]\n\
         Commands:\n   -s server-address -p port -u url\n   -S -s server-address -p port -u url\n   -h\n\n\
         Options:\n\
         Either long or short options are allowed.\n\
         \x20  --use-ssl         -S       Use SSL connection to remote server.\n\
         \x20  --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).\n\
         \x20  --server          -s       Use the specified remote server address.\n\
         \x20  --port            -p       Use the specified remote server port.\n\
         \x20  --url             -u       Use the specified remote server url.\n\
         \x20  --use-virtualhost -V       Use the specified virtualhost in GET query.\n\
         \x20  --verbose         -v       Use verbose mode output.\n\
         \x20  --help            -h       Display this short inlined help screen.\n\
         \x20  --fwmark          -m       Use the specified FW mark.\n\
         \x20  --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.\n\
         \x20                               1.0c means 1.0 with 'Connection: close'\n\
         \x20  --timeout         -t       Timeout in seconds\n",
        if am_genhash { "" } else { " --genhash" }
    )
}

const LONG_OPTIONS: &[(&str, char, bool)] = &[
    ("help", 'h', false),
    ("verbose", 'v', false),
    ("use-ssl", 'S', false),
    ("use-sni", 'I', false),
    ("server", 's', true),
    ("use-virtualhost", 'V', true),
    ("port", 'p', true),
    ("url", 'u', true),
    ("fwmark", 'm', true),
    ("protocol", 'P', true),
    ("timeout", 't', true),
];

fn takes_argument(short: char) -> Option<bool> {
    LONG_OPTIONS
        .iter()
        .find(|(_, c, _)| *c == short)
        .map(|(_, _, arg)| *arg)
}

/// keepalived parses numbers with strtoul after skipping blanks; a sign or
/// trailing garbage is rejected.
fn parse_unsigned(text: &str) -> Option<u64> {
    let trimmed = text.trim_start_matches([' ', '\t']);
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    trimmed.parse().ok()
}

/// Parses the options after the program name (getopt_long semantics: clustered
/// short options, attached or separate arguments, `--long[=value]`).
pub fn parse(args: &[String]) -> Result<Options, UsageError> {
    // keepalived: fewer than two option words is just the usage.
    if args.len() < 2 {
        return Err(UsageError::Usage);
    }
    let mut pairs: Vec<(char, Option<String>)> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut positional: Vec<String> = Vec::new();
    let mut index = 0;
    while let Some(word) = args.get(index) {
        index += 1;
        if let Some(long) = word.strip_prefix("--") {
            if long.is_empty() {
                positional.extend(args.get(index..).unwrap_or_default().iter().cloned());
                break;
            }
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (long, None),
            };
            let matches: Vec<_> = LONG_OPTIONS
                .iter()
                .filter(|(n, _, _)| *n == name || n.starts_with(name))
                .collect();
            let exact = matches.iter().find(|(n, _, _)| *n == name);
            let Some((long_name, short, needs)) = exact.copied().or(if matches.len() == 1 {
                matches.first().copied()
            } else {
                None
            }) else {
                errors.push(format!("Unknown option {word}"));
                continue;
            };
            let value = if *needs {
                match inline {
                    Some(v) => Some(v),
                    None => match args.get(index) {
                        Some(v) => {
                            index += 1;
                            Some(v.clone())
                        }
                        None => {
                            errors.push(format!("Missing parameter for option --{long_name}"));
                            continue;
                        }
                    },
                }
            } else {
                None
            };
            pairs.push((*short, value));
        } else if let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (at, short) in cluster.char_indices() {
                match takes_argument(short) {
                    None => {
                        errors.push(format!("Unknown option -{short}"));
                    }
                    Some(false) => pairs.push((short, None)),
                    Some(true) => {
                        let rest = cluster.get(at + short.len_utf8()..).unwrap_or_default();
                        if !rest.is_empty() {
                            pairs.push((short, Some(rest.to_string())));
                        } else if let Some(v) = args.get(index) {
                            index += 1;
                            pairs.push((short, Some(v.clone())));
                        } else {
                            errors.push(format!("Missing parameter for option -{short}"));
                        }
                        break;
                    }
                }
            }
        } else {
            positional.push(word.clone());
        }
    }

    let mut verbose = false;
    let mut ssl = false;
    let mut sni = false;
    let mut server = None;
    let mut port = None;
    let mut url = None;
    let mut virtualhost = None;
    let mut fwmark = None;
    let mut protocol = HttpProtocol::Http10;
    let mut timeout = None;
    let mut help = false;
    for (short, value) in pairs {
        let value = value.unwrap_or_default();
        match short {
            'h' => help = true,
            'v' => verbose = true,
            'S' => ssl = true,
            'I' => sni = true,
            's' => match value.parse::<IpAddr>() {
                Ok(ip) => server = Some(ip),
                Err(_) => {
                    return Err(UsageError::Message(format!(
                        "server should be an IP, not {value}"
                    )));
                }
            },
            'V' => virtualhost = Some(value),
            'p' => match value.parse::<u16>() {
                Ok(p) if p > 0 && value.bytes().all(|b| b.is_ascii_digit()) => port = Some(p),
                _ => {
                    return Err(UsageError::Message(format!(
                        "invalid port number '{value}'"
                    )));
                }
            },
            'u' => url = Some(value),
            'm' => match parse_unsigned(&value).and_then(|m| u32::try_from(m).ok()) {
                Some(mark) => fwmark = Some(mark),
                None => return Err(UsageError::Message(format!("invalid fwmark '{value}'"))),
            },
            'P' => {
                protocol = match value.as_str() {
                    "1.0" => HttpProtocol::Http10,
                    "1.0c" | "1.0C" => HttpProtocol::Http10Close,
                    "1.1" => HttpProtocol::Http11,
                    _ => {
                        return Err(UsageError::Message(format!(
                            "invalid HTTP protocol version '{value}'"
                        )));
                    }
                }
            }
            't' => match parse_unsigned(&value) {
                Some(secs) => timeout = Some(Duration::from_secs(secs)),
                None => return Err(UsageError::Message(format!("invalid timeout '{value}'"))),
            },
            _ => {}
        }
    }
    if let Some(first) = errors.into_iter().next() {
        return Err(UsageError::Message(first));
    }
    if help {
        return Err(UsageError::Usage);
    }
    if !positional.is_empty() {
        return Err(UsageError::Message(format!(
            "Unexpected argument(s): {}",
            positional.join(" ")
        )));
    }
    match (server, port, url) {
        (Some(server), Some(port), Some(url)) => Ok(Options {
            verbose,
            ssl,
            sni,
            server,
            port,
            url,
            virtualhost,
            fwmark,
            protocol,
            timeout,
        }),
        _ => Err(UsageError::Usage),
    }
}

/// keepalived's `dump_buffer`: 16 bytes a line, offset, hex with a dash after 8,
/// then the printable characters.
pub fn dump_buffer(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        out.push_str(&format!("{:04} ", (line * 16) & 0xffff));
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => out.push_str(&format!(" {b:02x}")),
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push_str(" -");
            }
        }
        out.push_str("   ");
        for i in 0..16 {
            out.push(match chunk.get(i) {
                Some(b) if (0x20..=0x7e).contains(b) => char::from(*b),
                Some(_) => '.',
                None => ' ',
            });
        }
        out.push('\n');
    }
    out
}

const HTTP_HEADER_HEXA: &str =
    "-----------------------[    HTTP Header Buffer    ]-----------------------\n";
const HTTP_HEADER_ASCII: &str =
    "-----------------------[ HTTP Header Ascii Buffer ]-----------------------\n";
const HTML_HEADER_HEXA: &str =
    "-----------------------[        HTML Buffer        ]-----------------------\n";
const HTML_HASH: &str =
    "-----------------------[    HTML hash resulting    ]-----------------------\n";
const HTML_HASH_FINAL: &str =
    "-----------------------[ HTML hash final resulting ]-----------------------\n";

async fn read_response<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &str,
    verbose: bool,
) -> Result<ResponseReader, &'static str> {
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|_| "Cannot send get request to")?;
    let mut reader = ResponseReader::new(verbose);
    let mut buffer = vec![0u8; 16 << 10];
    loop {
        let received = match stream.read(&mut buffer).await {
            Ok(received) => received,
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(_) => return Err("Read error with"),
        };
        if received == 0 {
            return Ok(reader);
        }
        if reader
            .feed(buffer.get(..received).unwrap_or_default())
            .is_err()
        {
            return Err("Read error with");
        }
    }
}

/// Fetches the page and returns what genhash prints on stdout and stderr.
pub async fn fetch(options: &Options) -> (String, String) {
    let tls = if options.ssl {
        match crate::tls::client_config(None) {
            Ok(config) => Some(TlsSettings {
                config,
                sni: options.sni,
            }),
            Err(_) => return (String::new(), "Cannot initialize SSL context.\n".into()),
        }
    } else {
        None
    };
    let started = Instant::now();
    let mut target = Target::new(SocketAddr::new(options.server, options.port));
    target.fwmark = options.fwmark;
    let deadline = options.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut out = String::new();
    let mut err = String::new();

    let connected = match deadline {
        Some(at) => tokio::time::timeout_at(at, connect(&target)).await.ok(),
        None => Some(connect(&target).await),
    };
    let stream = match connected {
        None => return ("Timeout connecting\n".into(), err),
        Some(Err(CheckError::Connect(_))) => return ("Connection failed\n".into(), err),
        Some(Err(_)) => return ("Error connecting\n".into(), err),
        Some(Ok(stream)) => stream,
    };
    let request = http::request(
        &options.url,
        options.protocol,
        options.virtualhost.as_deref(),
        options.server,
        options.port,
    );
    let exchange = async {
        match tls {
            None => read_response(stream, &request, options.verbose).await,
            Some(tls) => {
                let stream = tls
                    .handshake(stream, options.virtualhost.as_deref(), options.server)
                    .await
                    .map_err(|_| "SSL handshake/communication error connecting to server")?;
                read_response(stream, &request, options.verbose).await
            }
        }
    };
    let outcome = match deadline {
        Some(at) => tokio::time::timeout_at(at, exchange)
            .await
            .unwrap_or(Err("Timeout HTTP read")),
        None => exchange.await,
    };
    let reader = match outcome {
        Ok(reader) => reader,
        Err(message) => return (format!("{message}\n"), err),
    };
    match reader.finish() {
        Err(_) => {
            if options.verbose {
                out.push_str(HTTP_HEADER_HEXA);
            }
            err.push_str("no data received from remote webserver\n");
        }
        Ok(response) => {
            if options.verbose {
                out.push_str(HTTP_HEADER_HEXA);
                out.push_str(&dump_buffer(&response.header));
                out.push_str(HTTP_HEADER_ASCII);
                out.push_str(&String::from_utf8_lossy(&response.header));
                out.push('\n');
                let shown = response
                    .content_length
                    .and_then(|l| usize::try_from(l).ok())
                    .map_or(response.body.len(), |l| l.min(response.body.len()));
                if shown > 0 {
                    out.push_str(HTML_HEADER_HEXA);
                    out.push_str(&dump_buffer(response.body.get(..shown).unwrap_or_default()));
                }
                out.push('\n');
                out.push_str(HTML_HASH);
                out.push_str(&dump_buffer(&response.digest));
                out.push_str(HTML_HASH_FINAL);
            }
            out.push_str(&http::hex(&response.digest));
            out.push('\n');
        }
    }
    if options.verbose {
        out.push_str(&format!(
            "\nGlobal response time for [{}] = {} usecs\n",
            options.url,
            started.elapsed().as_micros()
        ));
    }
    (out, err)
}

/// Whether keepalived's command line asks for genhash mode (keepalived
/// `main.c`: program name `genhash`, or `-T`/`--genhash` as the first option).
pub fn is_genhash_invocation(args: &[String]) -> bool {
    let program_is_genhash = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|name| name == "genhash");
    let first_option = args.get(1).map(String::as_str);
    program_is_genhash || matches!(first_option, Some("-T" | "--genhash"))
}

/// The genhash program: `args[0]` is the program name; a leading `-T` or
/// `--genhash` (keepalived's genhash mode) is skipped. Returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let prog = args.first().map_or("genhash", String::as_str);
    let mut rest = args.get(1..).unwrap_or_default();
    let mut am_genhash = true;
    if let Some(first) = rest.first()
        && (first == "-T" || first == "--genhash")
    {
        am_genhash = false;
        rest = rest.get(1..).unwrap_or_default();
    }
    let options = match parse(rest) {
        Ok(options) => options,
        Err(error) => {
            if let UsageError::Message(message) = &error {
                eprintln!("{message}");
            }
            eprint!("{}", usage(prog, am_genhash));
            return 1;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the I/O runtime: {error}");
            return 1;
        }
    };
    let (out, err) = runtime.block_on(fetch(&options));
    let _ = std::io::stdout().write_all(out.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(err.as_bytes());
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_short_long_and_clustered() {
        let o = parse(&args(&[
            "-s",
            "127.0.0.1",
            "-p80",
            "--url=/x",
            "-vP",
            "1.1",
            "--time",
            "3",
        ]))
        .expect("valid");
        assert_eq!(o.server, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(o.port, 80);
        assert_eq!(o.url, "/x");
        assert!(o.verbose);
        assert_eq!(o.protocol, HttpProtocol::Http11);
        assert_eq!(o.timeout, Some(Duration::from_secs(3)));
    }

    #[test]
    fn rejects_like_keepalived() {
        assert_eq!(parse(&args(&["-s", "1.2.3.4"])), Err(UsageError::Usage));
        assert_eq!(
            parse(&args(&["-s", "1.2.3.4", "-p", "80"])),
            Err(UsageError::Usage)
        );
        assert_eq!(
            parse(&args(&["-s", "host", "-p", "80", "-u", "/"])),
            Err(UsageError::Message(
                "server should be an IP, not host".into()
            ))
        );
        assert_eq!(
            parse(&args(&["-s", "::1", "-p", "0", "-u", "/"])),
            Err(UsageError::Message("invalid port number '0'".into()))
        );
        assert_eq!(
            parse(&args(&["-s", "::1", "-p", "1", "-u", "/", "x"])),
            Err(UsageError::Message("Unexpected argument(s): x".into()))
        );
        assert_eq!(
            parse(&args(&["-s", "::1", "-p", "1", "-u", "/", "-t", "-1"])),
            Err(UsageError::Message("invalid timeout '-1'".into()))
        );
    }

    #[test]
    fn genhash_invocations() {
        assert!(is_genhash_invocation(&args(&["/usr/bin/genhash", "-s"])));
        assert!(is_genhash_invocation(&args(&["keepalived", "-T", "-s"])));
        assert!(is_genhash_invocation(&args(&["keepalived", "--genhash"])));
        assert!(!is_genhash_invocation(&args(&["keepalived", "-D", "-T"])));
        assert!(!is_genhash_invocation(&args(&["keepalived"])));
    }

    #[test]
    fn dump_buffer_like_keepalived() {
        assert_eq!(
            dump_buffer(b"HTTP/1.0 200 OK\r\nX"),
            "0000  48 54 54 50 2f 31 2e 30 - 20 32 30 30 20 4f 4b 0d   HTTP/1.0 200 OK.\n\
             0016  0a 58                   -                           .X              \n"
        );
    }
}
