//! One check of one checker, as a future. Every check runs under a single total
//! deadline covering connect, request and response, so a server that accepts and
//! then trickles bytes fails at the timeout (keepalived bugs #1817/#1822: its
//! timeout restarts on every read).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use config::model::lvs::{
    Checker, CheckerCommon, CheckerKind, HttpProtocol, RealServer, Url, VirtualServer,
};
use md5::{Digest, Md5};
use regex::bytes::{Regex, RegexBuilder};
use socket2::SockRef;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::checks::{
    MiscResult, MiscScript, UdpCheck, dns_check, misc_check, ping_check, smtp_check, udp_check,
};
use crate::http::{self, ResponseError, ResponseReader, STATUS_CODE_MAX, STATUS_CODE_MIN};
use crate::tls::TlsSettings;

/// Where and how a checker connects (the common checker options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `connect_ip`/`connect_port`, else the real server's address and port.
    pub addr: SocketAddr,
    /// `bindto`/`bind_port`.
    pub bind: Option<SocketAddr>,
    /// `bind_if` (SO_BINDTODEVICE).
    pub bind_if: Option<String>,
    /// `fwmark` (SO_MARK).
    pub fwmark: Option<u32>,
}

impl Target {
    pub fn new(addr: SocketAddr) -> Target {
        Target {
            addr,
            bind: None,
            bind_if: None,
            fwmark: None,
        }
    }

    /// From a checker's common options and its real server.
    pub fn of(common: &CheckerCommon, rs: &RealServer) -> Target {
        let ip = common.connect_ip.unwrap_or(rs.addr);
        let port = common.connect_port.unwrap_or(rs.port);
        let bind = match (common.bindto, common.bind_port) {
            (Some(ip), port) => Some(SocketAddr::new(ip, port.unwrap_or(0))),
            // keepalived: a bind_port alone binds the wildcard address of the family.
            (None, Some(port)) => Some(SocketAddr::new(unspecified_like(ip), port)),
            (None, None) => None,
        };
        Target {
            addr: SocketAddr::new(ip, port),
            bind,
            bind_if: common.bind_if.clone(),
            fwmark: common.fwmark,
        }
    }
}

fn unspecified_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::from([0u8; 4]),
        IpAddr::V6(_) => IpAddr::from([0u16; 8]),
    }
}

/// Why a check failed (the reason is logged).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("timeout after {0:?}")]
    Timeout(Duration),
    #[error("cannot set up the socket: {0}")]
    Socket(#[source] io::Error),
    #[error("connection failed: {0}")]
    Connect(#[source] io::Error),
    #[error("I/O error: {0}")]
    Io(#[source] io::Error),
    #[error("SSL handshake/communication error: {0}")]
    Tls(#[source] io::Error),
    #[error("{0}")]
    Response(#[from] ResponseError),
    #[error("HTTP status code error ({0})")]
    Status(u16),
    #[error("MD5 digest error (got {got})")]
    Digest { got: String },
    #[error("regex match failed")]
    Regex,
    #[error("{0}")]
    Protocol(String),
    #[error("{0} is not implemented by this checker process")]
    Unsupported(&'static str),
}

/// Opens a TCP connection with the target's socket options. The socket is
/// created non-blocking and close-on-exec in one call (keepalived:
/// `socket(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)`), no `ioctl` after.
pub async fn connect(target: &Target) -> Result<TcpStream, CheckError> {
    let socket = match target.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(CheckError::Socket)?;
    if let Some(mark) = target.fwmark {
        SockRef::from(&socket)
            .set_mark(mark)
            .map_err(CheckError::Socket)?;
    }
    if let Some(ifname) = &target.bind_if {
        socket
            .bind_device(Some(ifname.as_bytes()))
            .map_err(CheckError::Socket)?;
    }
    if let Some(bind) = target.bind {
        socket.bind(bind).map_err(CheckError::Socket)?;
    }
    socket
        .connect(target.addr)
        .await
        .map_err(CheckError::Connect)
}

/// A `url { }` ready to check.
#[derive(Debug, Clone)]
pub struct UrlCheck {
    pub path: String,
    pub digest: Option<[u8; 16]>,
    pub status_codes: Vec<(u16, u16)>,
    pub virtualhost: Option<String>,
    pub regex: Option<Regex>,
    pub regex_no_match: bool,
    pub regex_min_offset: usize,
    pub regex_max_offset: Option<usize>,
    /// The GET request of the last check, sent again as long as the target,
    /// protocol and virtualhost stay the same (they do: a url belongs to one
    /// checker), so a check does not rebuild it.
    request: OnceLock<BuiltRequest>,
}

/// A request with what it was built from.
#[derive(Debug, Clone)]
struct BuiltRequest {
    addr: SocketAddr,
    protocol: HttpProtocol,
    virtualhost: Option<String>,
    bytes: Box<[u8]>,
}

/// Errors building a probe from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid regex {pattern:?}: {source}")]
    Regex {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("SSL_GET without a TLS client configuration")]
    NoTls,
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsSetupError),
}

impl UrlCheck {
    pub fn from_config(url: &Url) -> Result<UrlCheck, BuildError> {
        let regex = match &url.regex {
            None => None,
            Some(pattern) => {
                let mut builder = RegexBuilder::new(pattern);
                // keepalived's regex_options name PCRE2 flags; the ones with an
                // equivalent in the regex crate are honoured.
                for option in &url.regex_options {
                    match option.as_str() {
                        "caseless" => builder.case_insensitive(true),
                        "multiline" => builder.multi_line(true),
                        "dotall" => builder.dot_matches_new_line(true),
                        "extended" => builder.ignore_whitespace(true),
                        "ungreedy" => builder.swap_greed(true),
                        _ => &mut builder,
                    };
                }
                Some(builder.build().map_err(|source| BuildError::Regex {
                    pattern: pattern.clone(),
                    source,
                })?)
            }
        };
        let status_codes = if url.status_codes.is_empty() {
            vec![(200, 299)]
        } else {
            url.status_codes.clone()
        };
        Ok(UrlCheck {
            path: url.path.clone(),
            digest: url.digest,
            status_codes,
            virtualhost: url.virtualhost.clone(),
            regex,
            regex_no_match: url.regex_no_match,
            regex_min_offset: url
                .regex_min_offset
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
            regex_max_offset: url.regex_max_offset.and_then(|o| usize::try_from(o).ok()),
            request: OnceLock::new(),
        })
    }

    /// The GET request for `target` (see [`http::request`]), built once.
    pub fn request(
        &self,
        target: &Target,
        protocol: HttpProtocol,
        virtualhost: Option<&str>,
    ) -> Cow<'_, [u8]> {
        let build = || {
            http::request(
                &self.path,
                protocol,
                virtualhost,
                target.addr.ip(),
                target.addr.port(),
            )
            .into_bytes()
        };
        let built = self.request.get_or_init(|| BuiltRequest {
            addr: target.addr,
            protocol,
            virtualhost: virtualhost.map(str::to_string),
            bytes: build().into_boxed_slice(),
        });
        if built.addr == target.addr
            && built.protocol == protocol
            && built.virtualhost.as_deref() == virtualhost
        {
            Cow::Borrowed(&built.bytes)
        } else {
            Cow::Owned(build())
        }
    }

    /// keepalived `http_handle_response`: status code, then digest, then regex.
    pub fn judge(&self, response: &http::Response) -> Result<(), CheckError> {
        let status = response.status;
        let accepted = (STATUS_CODE_MIN..=STATUS_CODE_MAX).contains(&status)
            && self
                .status_codes
                .iter()
                .any(|(low, high)| (*low..=*high).contains(&status));
        if !accepted {
            return Err(CheckError::Status(status));
        }
        if let Some(expected) = self.digest
            && expected != response.digest
        {
            return Err(CheckError::Digest {
                got: http::hex(&response.digest),
            });
        }
        if let Some(regex) = &self.regex {
            let end = self
                .regex_max_offset
                .map_or(response.body.len(), |max| max.min(response.body.len()));
            let subject = response
                .body
                .get(self.regex_min_offset.min(end)..end)
                .unwrap_or_default();
            if regex.is_match(subject) == self.regex_no_match {
                return Err(CheckError::Regex);
            }
        }
        Ok(())
    }
}

/// HTTP_GET settings resolved for one checker.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    pub urls: Vec<UrlCheck>,
    pub protocol: HttpProtocol,
    /// The checker's virtualhost, else the real server's, else the virtual server's.
    pub virtualhost: Option<String>,
    /// SSL_GET.
    pub tls: Option<TlsSettings>,
}

/// What a checker does each time it runs.
#[derive(Debug, Clone)]
pub enum ProbeKind {
    Tcp,
    Http(HttpCheck),
    /// SMTP_CHECK with its HELO name.
    Smtp {
        helo_name: String,
    },
    /// DNS_CHECK.
    Dns {
        query_type: String,
        name: String,
    },
    Udp(UdpCheck),
    Ping,
    /// MISC_CHECK.
    Misc {
        script: MiscScript,
        dynamic: bool,
    },
    /// FILE_CHECK: follows a track_file instead of running on a timer (see
    /// [`crate::file`]); run as a probe it reads the file once.
    File(crate::file::FileCheck),
    /// A checker kind this process cannot run (yet); it always fails.
    Unsupported(&'static str),
}

/// A checker ready to run.
#[derive(Debug, Clone)]
pub struct Probe {
    pub target: Target,
    pub kind: ProbeKind,
    /// Total deadline of one check.
    pub timeout: Duration,
}

impl Probe {
    /// `tls`: the client configuration from the `SSL { }` block, needed by SSL_GET.
    /// A FILE_CHECK built here has no track files to follow and always fails; see
    /// [`Probe::from_config_with_files`].
    pub fn from_config(
        vs: &VirtualServer,
        rs: &RealServer,
        checker: &Checker,
        tls: Option<&Arc<ClientConfig>>,
    ) -> Result<Probe, BuildError> {
        Probe::from_config_with_files(vs, rs, checker, tls, &[])
    }

    /// As [`Probe::from_config`], with the configured `track_file`s for FILE_CHECK.
    pub fn from_config_with_files(
        vs: &VirtualServer,
        rs: &RealServer,
        checker: &Checker,
        tls: Option<&Arc<ClientConfig>>,
        track_files: &[config::model::vrrp::TrackFile],
    ) -> Result<Probe, BuildError> {
        let kind = match &checker.kind {
            CheckerKind::Tcp => ProbeKind::Tcp,
            CheckerKind::Http {
                ssl,
                urls,
                protocol,
                virtualhost,
                enable_sni,
                ..
            } => ProbeKind::Http(HttpCheck {
                urls: urls
                    .iter()
                    .map(UrlCheck::from_config)
                    .collect::<Result<_, _>>()?,
                protocol: *protocol,
                virtualhost: virtualhost
                    .clone()
                    .or_else(|| rs.virtualhost.clone())
                    .or_else(|| vs.virtualhost.clone()),
                tls: match (ssl, tls) {
                    (false, _) => None,
                    (true, Some(config)) => Some(TlsSettings {
                        config: config.clone(),
                        sni: *enable_sni,
                    }),
                    (true, None) => return Err(BuildError::NoTls),
                },
            }),
            CheckerKind::Smtp { helo_name, .. } => ProbeKind::Smtp {
                // keepalived's SMTP_DEFAULT_HELO.
                helo_name: helo_name.clone().unwrap_or_else(|| "localhost".into()),
            },
            CheckerKind::Dns { query_type, name } => ProbeKind::Dns {
                query_type: query_type.clone(),
                name: name.clone(),
            },
            CheckerKind::Udp {
                payload,
                require_reply,
                reply,
                min_reply_length,
                max_reply_length,
            } => ProbeKind::Udp(UdpCheck {
                payload: payload.clone().unwrap_or_default(),
                require_reply: *require_reply,
                reply: reply.clone(),
                min_reply_length: *min_reply_length,
                max_reply_length: *max_reply_length,
            }),
            CheckerKind::Ping => ProbeKind::Ping,
            CheckerKind::Misc {
                script, dynamic, ..
            } => ProbeKind::Misc {
                script: MiscScript::of(script),
                dynamic: *dynamic,
            },
            file @ CheckerKind::File { .. } => {
                match crate::file::FileCheck::of(file, track_files) {
                    Some(check) => ProbeKind::File(check),
                    None => ProbeKind::Unsupported("FILE_CHECK without its track_file"),
                }
            }
            other => ProbeKind::Unsupported(other.keyword()),
        };
        let timing = crate::engine::Timing::of(checker);
        let timeout = match &checker.kind {
            // keepalived: misc_timeout, else the delay_loop.
            CheckerKind::Misc { timeout_secs, .. } if *timeout_secs > 0 => {
                Duration::from_secs(u64::from(*timeout_secs))
            }
            CheckerKind::Misc { .. } => timing.delay_loop,
            _ => timing.timeout,
        };
        Ok(Probe {
            target: Target::of(&checker.common, rs),
            kind,
            timeout,
        })
    }

    /// Runs one check under the total deadline.
    pub async fn run(&self) -> Result<(), CheckError> {
        self.run_with_weight().await.map(|_| ())
    }

    /// Runs one check; a MISC_CHECK also says which weight it asks for.
    pub async fn run_with_weight(&self) -> Result<Option<MiscResult>, CheckError> {
        if let ProbeKind::Udp(udp) = &self.kind {
            // Silence until the deadline is an answer here, not a failure.
            return udp_check(&self.target, udp, self.timeout)
                .await
                .map(|()| None);
        }
        let bounded = match crate::clock::deadline_after(self.timeout) {
            Some(deadline) => tokio::time::timeout_at(deadline, self.run_unbounded()).await,
            // A timeout past the end of time: tokio caps it.
            None => tokio::time::timeout(self.timeout, self.run_unbounded()).await,
        };
        match bounded {
            Ok(result) => result,
            Err(_) => Err(CheckError::Timeout(self.timeout)),
        }
    }

    async fn run_unbounded(&self) -> Result<Option<MiscResult>, CheckError> {
        match &self.kind {
            ProbeKind::Misc { script, dynamic } => misc_check(script, *dynamic).await.map(Some),
            _ => self.run_connection().await.map(|()| None),
        }
    }

    async fn run_connection(&self) -> Result<(), CheckError> {
        match &self.kind {
            ProbeKind::Misc { .. } | ProbeKind::Udp(_) => Ok(()),
            ProbeKind::Smtp { helo_name } => smtp_check(&self.target, helo_name).await,
            ProbeKind::Dns { query_type, name } => dns_check(&self.target, name, query_type).await,
            ProbeKind::Ping => ping_check(&self.target).await,
            ProbeKind::Tcp => tcp_check(&self.target).await,
            ProbeKind::Http(http) => {
                // keepalived checks the urls one after the other; all must pass.
                for url in &http.urls {
                    let vhost = url.virtualhost.as_deref().or(http.virtualhost.as_deref());
                    let stream = connect(&self.target).await?;
                    let keep_body = url.regex.is_some();
                    let request = url.request(&self.target, http.protocol, vhost);
                    let response = match &http.tls {
                        None => send_request(stream, &request, keep_body).await?,
                        Some(tls) => {
                            let stream = tls
                                .handshake(stream, vhost, self.target.addr.ip())
                                .await
                                .map_err(CheckError::Tls)?;
                            send_request(stream, &request, keep_body).await?
                        }
                    };
                    url.judge(&response)?;
                }
                Ok(())
            }
            ProbeKind::File(check) => match check.read() {
                Some(crate::file::FileStatus::Weight(_)) => Ok(()),
                Some(crate::file::FileStatus::Fault) => Err(CheckError::Protocol(format!(
                    "tracked file {} in FAULT state",
                    check.path.display()
                ))),
                None => Err(CheckError::Protocol(format!(
                    "invalid number in {}",
                    check.path.display()
                ))),
            },
            ProbeKind::Unsupported(name) => Err(CheckError::Unsupported(name)),
        }
    }
}

/// TCP_CHECK: success once the connection is established (keepalived then
/// closes it without sending anything).
pub async fn tcp_check(target: &Target) -> Result<(), CheckError> {
    let stream = connect(target).await?;
    drop(stream);
    Ok(())
}

/// Sends one GET over a connected (plain or TLS) stream and reads the response
/// until the server closes (no deadline here: callers bound it).
pub async fn http_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    target: &Target,
    path: &str,
    protocol: HttpProtocol,
    virtualhost: Option<&str>,
    keep_body: bool,
) -> Result<http::Response, CheckError> {
    let request = http::request(
        path,
        protocol,
        virtualhost,
        target.addr.ip(),
        target.addr.port(),
    );
    send_request(stream, request.as_bytes(), keep_body).await
}

/// Sends request bytes over a connected stream and reads the response until the
/// server closes (no deadline here: callers bound it).
pub async fn send_request<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
    keep_body: bool,
) -> Result<http::Response, CheckError> {
    stream.write_all(request).await.map_err(CheckError::Io)?;
    let mut reader = ResponseReader::new(keep_body);
    // keepalived reads a response through a 4 KiB buffer (MAX_BUFFER_LENGTH); the
    // reader keeps what it needs, so more would only raise the peak under load.
    // Filled with read_buf: no zeroing of the buffer on every check.
    let mut buffer = Vec::with_capacity(4 << 10);
    loop {
        buffer.clear();
        let received = match stream.read_buf(&mut buffer).await {
            Ok(received) => received,
            // Many HTTPS servers close without close_notify once the response is
            // complete; keepalived treats that as the end of the stream too.
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(error) => return Err(CheckError::Io(error)),
        };
        if received == 0 {
            break;
        }
        reader.feed(&buffer)?;
    }
    Ok(reader.finish()?)
}

/// MD5 of bytes (digests in tests and genhash).
pub fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}
