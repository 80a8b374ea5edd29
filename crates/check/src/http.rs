//! HTTP_GET's request and response handling, without I/O (keepalived
//! `check_http.c`, `lib/html.c`).

use std::net::IpAddr;

use config::model::lvs::HttpProtocol;
use md5::{Digest, Md5};

/// keepalived's HTTP status code bounds (HTTP_STATUS_CODE_MIN/MAX).
pub const STATUS_CODE_MIN: u16 = 100;
pub const STATUS_CODE_MAX: u16 = 599;
/// Most of the body kept for `regex` matching; the rest only feeds the digest.
pub const REGEX_BODY_CAP: usize = 1 << 20;
/// Most header bytes accepted before the blank line.
pub const HEADER_CAP: usize = 64 << 10;

/// The GET request, byte for byte as keepalived sends it: `Connection: close`
/// for 1.1 and 1.0C; `Host` is the virtualhost, else `ADDR:PORT` (`[ADDR]:PORT`
/// for IPv6, RFC 2732).
pub fn request(
    path: &str,
    protocol: HttpProtocol,
    virtualhost: Option<&str>,
    addr: IpAddr,
    port: u16,
) -> String {
    let minor = u8::from(protocol == HttpProtocol::Http11);
    let connection = match protocol {
        HttpProtocol::Http10 => "",
        HttpProtocol::Http11 | HttpProtocol::Http10Close => "Connection: close\r\n",
    };
    let host = match (virtualhost, addr) {
        (Some(vhost), _) => vhost.to_string(),
        (None, IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        (None, IpAddr::V4(v4)) => format!("{v4}:{port}"),
    };
    format!(
        "GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{connection}Host: {host}\r\n\r\n"
    )
}

/// keepalived's `extract_status_code`: the three digits after the first space
/// of the status line, followed by a space; 0 when malformed.
pub fn status_code(header: &[u8]) -> u16 {
    let Some(space) = header.iter().position(|b| *b == b' ' || *b == b'\r') else {
        return 0;
    };
    if header.get(space) != Some(&b' ') {
        return 0;
    }
    let Some(code) = header.get(space + 1..space + 4) else {
        return 0;
    };
    if header.get(space + 4) != Some(&b' ') || !code.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    code.iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
}

/// keepalived's `extract_content_length`: the first (case-sensitive)
/// `Content-Length:` in the header; `None` when absent or not a number ending
/// the line.
pub fn content_length(header: &[u8]) -> Option<u64> {
    const TAG: &[u8] = b"Content-Length:";
    let at = header.windows(TAG.len()).position(|w| w == TAG)?;
    let rest = header.get(at + TAG.len()..)?;
    let rest = trim_leading_space(rest);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    match rest.get(digits) {
        None | Some(b'\r') | Some(b'\n') => {}
        Some(_) => return None,
    }
    let text = std::str::from_utf8(rest.get(..digits)?).ok()?;
    if text.is_empty() {
        // strtoul of nothing is 0, and keepalived accepts that.
        return Some(0);
    }
    text.parse().ok()
}

fn trim_leading_space(mut bytes: &[u8]) -> &[u8] {
    while let Some((first, rest)) = bytes.split_first() {
        if first.is_ascii_whitespace() {
            bytes = rest;
        } else {
            break;
        }
    }
    bytes
}

/// Accumulates a response as it arrives.
#[derive(Debug, Default)]
pub struct ResponseReader {
    header: Vec<u8>,
    header_done: bool,
    status: u16,
    content_length: Option<u64>,
    body_seen: u64,
    digest: Md5,
    /// The start of the body, for regex matching (at most [`REGEX_BODY_CAP`]).
    body: Vec<u8>,
    keep_body: bool,
}

/// What a finished response looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_length: Option<u64>,
    /// Body bytes received (all of them, even past Content-Length).
    pub body_len: u64,
    /// MD5 of the body, cut at Content-Length (keepalived hashes no further).
    pub digest: [u8; 16],
    pub header: Vec<u8>,
    pub body: Vec<u8>,
}

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("no data received (no complete HTTP header)")]
    NoHeader,
    #[error("HTTP header longer than {HEADER_CAP} bytes")]
    HeaderTooLong,
}

impl ResponseReader {
    /// `keep_body`: keep the start of the body (for regex matching or display).
    pub fn new(keep_body: bool) -> ResponseReader {
        ResponseReader {
            keep_body,
            ..ResponseReader::default()
        }
    }

    /// Feeds received bytes.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), ResponseError> {
        if !self.header_done {
            let start = self.header.len().saturating_sub(3);
            self.header.extend_from_slice(data);
            match find_blank_line(self.header.get(start..).unwrap_or_default()) {
                Some(end) => {
                    let end = start + end;
                    // The body's first bytes are fed from the header buffer, which
                    // is then cut: no second buffer per response.
                    let mut header = std::mem::take(&mut self.header);
                    self.header_done = true;
                    self.status = status_code(header.get(..end).unwrap_or_default());
                    self.content_length = content_length(header.get(..end).unwrap_or_default());
                    self.feed_body(header.get(end..).unwrap_or_default());
                    header.truncate(end);
                    self.header = header;
                    return Ok(());
                }
                None if self.header.len() > HEADER_CAP => return Err(ResponseError::HeaderTooLong),
                None => return Ok(()),
            }
        }
        self.feed_body(data);
        Ok(())
    }

    fn feed_body(&mut self, data: &[u8]) {
        let len = data.len() as u64;
        let hashed = match self.content_length {
            Some(limit) => {
                let remaining = limit.saturating_sub(self.body_seen);
                usize::try_from(remaining.min(len)).unwrap_or(data.len())
            }
            None => data.len(),
        };
        self.digest.update(data.get(..hashed).unwrap_or(data));
        if self.keep_body {
            let room = REGEX_BODY_CAP.saturating_sub(self.body.len());
            self.body
                .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        }
        self.body_seen = self.body_seen.saturating_add(len);
    }

    /// The response, once the connection is closed.
    pub fn finish(self) -> Result<Response, ResponseError> {
        if !self.header_done {
            return Err(ResponseError::NoHeader);
        }
        Ok(Response {
            status: self.status,
            content_length: self.content_length,
            body_len: self.body_seen,
            digest: self.digest.finalize().into(),
            header: self.header,
            body: self.body,
        })
    }
}

/// Offset just past the first CRLFCRLF (keepalived's `extract_html`).
fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Lower-case hex of a digest, as genhash prints and `digest` is written.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn request_like_keepalived() {
        let v4 = IpAddr::from([10, 0, 0, 1]);
        assert_eq!(
            request("/x", HttpProtocol::Http10, None, v4, 80),
            "GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1:80\r\n\r\n"
        );
        assert_eq!(
            request("/", HttpProtocol::Http11, Some("www.example"), v4, 80),
            "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example\r\n\r\n"
        );
        assert_eq!(
            request(
                "/",
                HttpProtocol::Http10Close,
                None,
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                8080
            ),
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [::1]:8080\r\n\r\n"
        );
    }

    #[test]
    fn status_code_like_extract_status_code() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\n"), 200);
        assert_eq!(status_code(b"HTTP/1.1 404 Not Found"), 404);
        assert_eq!(status_code(b"HTTP/1.1 2000 OK"), 0);
        assert_eq!(status_code(b"HTTP/1.1 20 OK"), 0);
        assert_eq!(status_code(b"HTTP/1.1 200\r\n"), 0);
        assert_eq!(status_code(b"garbage"), 0);
        assert_eq!(status_code(b"HTTP/1.1 2x0 OK"), 0);
        assert_eq!(status_code(b""), 0);
    }

    #[test]
    fn content_length_like_extract_content_length() {
        assert_eq!(content_length(b"X\r\nContent-Length: 12\r\n"), Some(12));
        assert_eq!(content_length(b"X\r\nContent-Length:7"), Some(7));
        assert_eq!(content_length(b"X\r\ncontent-length: 12\r\n"), None);
        assert_eq!(content_length(b"X\r\nContent-Length: 12x\r\n"), None);
    }

    #[test]
    fn digest_stops_at_content_length_and_header_may_split() {
        let mut r = ResponseReader::new(true);
        for chunk in [
            &b"HTTP/1.0 200 OK\r\nContent-Length: 5\r"[..],
            b"\n\r",
            b"\nhel",
            b"lo world",
        ] {
            r.feed(chunk).expect("feed");
        }
        let resp = r.finish().expect("complete");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.content_length, Some(5));
        assert_eq!(resp.body_len, 11);
        assert_eq!(resp.body, b"hello world");
        let expected: [u8; 16] = Md5::digest(b"hello").into();
        assert_eq!(resp.digest, expected);
    }

    #[test]
    fn no_header_is_an_error() {
        let mut r = ResponseReader::new(false);
        r.feed(b"HTTP/1.0 200 OK\r\n").expect("feed");
        assert_eq!(r.finish(), Err(ResponseError::NoHeader));
        let mut r = ResponseReader::new(false);
        assert_eq!(
            r.feed(&vec![b'a'; HEADER_CAP + 10]),
            Err(ResponseError::HeaderTooLong)
        );
    }
}
