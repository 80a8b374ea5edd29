//! SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK and MISC_CHECK, one check each,
//! as futures. Callers bound them with the total deadline except UDP_CHECK, where
//! silence until the deadline is itself the answer.

use std::net::{IpAddr, SocketAddr};
use std::process::Stdio;
use std::str::FromStr;
use std::time::Duration;

use config::script::Script;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;

use crate::probe::{CheckError, Target, connect};

/// keepalived's SMTP status parse (`smtp_get_status`): three digits followed by
/// the end of the line or a space; `None` otherwise (so `220-` multi-line
/// greetings are refused, as upstream).
pub fn smtp_status(line: &str) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match line.as_bytes().get(3) {
        None | Some(b' ') => digits.parse().ok(),
        Some(_) => None,
    }
}

/// keepalived's SMTP receive buffer (`SMTP_BUFF_MAX`): a reply line longer than
/// this is not kept whole.
pub const SMTP_LINE_MAX: usize = 512;

/// Accumulates an SMTP server's bytes into one reply line as keepalived's
/// `smtp_get_line_cb` does: at most `SMTP_LINE_MAX - 1` bytes are held, a full
/// buffer without a newline is cleared and filling starts again (so a server
/// streaming an endless line costs bounded memory and fails on the deadline),
/// and the line ends at the first newline before any NUL byte (keepalived's
/// `strchr` on a C string). What follows the newline is dropped, as upstream.
#[derive(Debug, Default, Clone)]
pub struct SmtpLineBuffer {
    held: Vec<u8>,
    /// How often a full buffer was cleared (keepalived logs "Buffer overflow").
    pub overflows: u32,
}

impl SmtpLineBuffer {
    /// How many bytes the next read may take (clears a full buffer first).
    pub fn room(&mut self) -> usize {
        if self.held.len() >= SMTP_LINE_MAX - 1 {
            self.held.clear();
            self.overflows = self.overflows.saturating_add(1);
        }
        SMTP_LINE_MAX - 1 - self.held.len()
    }

    /// Adds received bytes (at most [`Self::room`] are kept); returns the
    /// complete line, without its newline (a trailing CR stays, as upstream),
    /// once there is one. The buffer is then empty for the next reply.
    pub fn push(&mut self, data: &[u8]) -> Option<String> {
        let room = self.room();
        self.held
            .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        let visible = match self.held.iter().position(|&b| b == 0) {
            Some(nul) => self.held.get(..nul).unwrap_or_default(),
            None => &self.held,
        };
        let newline = visible.iter().position(|&b| b == b'\n')?;
        let line = String::from_utf8_lossy(visible.get(..newline).unwrap_or_default()).into_owned();
        self.held.clear();
        Some(line)
    }
}

/// SMTP_CHECK (keepalived `check_smtp.c`): greeting 220, `HELO name`, 250,
/// `QUIT`, any reply line.
pub async fn smtp_check(target: &Target, helo_name: &str) -> Result<(), CheckError> {
    let mut stream = connect(target).await?;

    async fn read_line(stream: &mut tokio::net::TcpStream) -> Result<String, CheckError> {
        let mut line = SmtpLineBuffer::default();
        let mut chunk = [0u8; SMTP_LINE_MAX];
        loop {
            let room = line.room();
            let read = stream
                .read(chunk.get_mut(..room).unwrap_or_default())
                .await
                .map_err(CheckError::Io)?;
            if read == 0 {
                return Err(CheckError::Protocol(
                    "read failure (connection closed)".into(),
                ));
            }
            if let Some(complete) = line.push(chunk.get(..read).unwrap_or_default()) {
                return Ok(complete);
            }
        }
    }

    let line = read_line(&mut stream).await?;
    if smtp_status(&line) != Some(220) {
        return Err(CheckError::Protocol(format!(
            "bad greeting banner {line:?}"
        )));
    }
    stream
        .write_all(format!("HELO {helo_name}\r\n").as_bytes())
        .await
        .map_err(CheckError::Io)?;
    let line = read_line(&mut stream).await?;
    if smtp_status(&line) != Some(250) {
        return Err(CheckError::Protocol(format!("bad HELO response {line:?}")));
    }
    stream
        .write_all(b"QUIT\r\n")
        .await
        .map_err(CheckError::Io)?;
    read_line(&mut stream).await?;
    Ok(())
}

/// A UDP socket with the target's options, connected to it.
fn udp_socket(target: &Target) -> Result<UdpSocket, CheckError> {
    let socket = Socket::new(
        Domain::for_address(target.addr),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(CheckError::Socket)?;
    socket.set_nonblocking(true).map_err(CheckError::Socket)?;
    if let Some(mark) = target.fwmark {
        socket.set_mark(mark).map_err(CheckError::Socket)?;
    }
    if let Some(ifname) = &target.bind_if {
        socket
            .bind_device(Some(ifname.as_bytes()))
            .map_err(CheckError::Socket)?;
    }
    if let Some(bind) = target.bind {
        socket.bind(&bind.into()).map_err(CheckError::Socket)?;
    }
    socket
        .connect(&target.addr.into())
        .map_err(CheckError::Connect)?;
    UdpSocket::from_std(socket.into()).map_err(CheckError::Socket)
}

/// DNS_CHECK query type by name (keepalived's table: A NS CNAME SOA MX TXT AAAA
/// RRSIG DNSKEY).
pub fn dns_type(name: &str) -> Option<RecordType> {
    let upper = name.to_ascii_uppercase();
    match upper.as_str() {
        "A" | "NS" | "CNAME" | "SOA" | "MX" | "TXT" | "AAAA" | "RRSIG" | "DNSKEY" => {
            RecordType::from_str(&upper).ok()
        }
        _ => None,
    }
}

/// The DNS_CHECK query: recursion desired, one question of class IN.
pub fn dns_query(id: u16, name: &str, query_type: RecordType) -> Result<Vec<u8>, CheckError> {
    let qname = if name.is_empty() || name == "." {
        Name::root()
    } else {
        Name::from_ascii(name)
            .map_err(|e| CheckError::Protocol(format!("bad query name {name:?}: {e}")))?
    };
    let mut message = Message::new();
    message
        .set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(qname, query_type));
    message
        .to_vec()
        .map_err(|e| CheckError::Protocol(format!("cannot encode the query: {e}")))
}

/// DNS_CHECK (keepalived `check_dns.c`): replies that are too short, carry
/// another id or are not responses are ignored; the first matching response
/// decides by its rcode.
pub async fn dns_check(target: &Target, name: &str, query_type: &str) -> Result<(), CheckError> {
    let record_type = dns_type(query_type)
        .ok_or_else(|| CheckError::Protocol(format!("unknown query type {query_type}")))?;
    let id = fastrand::u16(..);
    let query = dns_query(id, name, record_type)?;
    let socket = udp_socket(target)?;
    socket.send(&query).await.map_err(CheckError::Io)?;
    let mut buffer = vec![0u8; 4096];
    loop {
        let received = socket.recv(&mut buffer).await.map_err(CheckError::Io)?;
        if let Some(verdict) = dns_reply_verdict(id, buffer.get(..received).unwrap_or_default()) {
            return verdict;
        }
    }
}

/// What one DNS_CHECK reply decides: `None` when it is to be ignored (does not
/// parse, another id, not a response), else success on rcode NOERROR.
pub fn dns_reply_verdict(id: u16, reply: &[u8]) -> Option<Result<(), CheckError>> {
    let reply = Message::from_vec(reply).ok()?;
    if reply.id() != id || reply.message_type() != MessageType::Response {
        return None;
    }
    Some(match reply.response_code() {
        ResponseCode::NoError => Ok(()),
        code => Err(CheckError::Protocol(format!(
            "read error occurred. (rcode = {})",
            u16::from(code)
        ))),
    })
}

/// UDP_CHECK settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UdpCheck {
    pub payload: Vec<u8>,
    pub require_reply: bool,
    /// Expected reply (value, wildcard mask) bytes.
    pub reply: Option<Vec<(u8, u8)>>,
    pub min_reply_length: u16,
    pub max_reply_length: u16,
}

/// keepalived `check_udp_reply`: length within bounds, then the common prefix of
/// the reply and the pattern must match outside the mask.
pub fn udp_reply_matches(check: &UdpCheck, reply: &[u8]) -> bool {
    let len = reply.len();
    if len < usize::from(check.min_reply_length) || len > usize::from(check.max_reply_length) {
        return false;
    }
    check.reply.as_ref().is_none_or(|pattern| {
        pattern
            .iter()
            .zip(reply)
            .all(|((value, mask), got)| (value ^ got) & !mask == 0)
    })
}

/// UDP_CHECK (keepalived `check_udp.c`, `layer4.c`): send the payload; an ICMP
/// port unreachable fails; silence until `timeout` succeeds unless a reply is
/// required; a reply must match the expected data.
pub async fn udp_check(
    target: &Target,
    check: &UdpCheck,
    timeout: Duration,
) -> Result<(), CheckError> {
    let socket = udp_socket(target)?;
    let exchange = async {
        socket.send(&check.payload).await.map_err(CheckError::Io)?;
        let mut buffer = vec![0u8; usize::from(check.max_reply_length) + 1];
        let received = socket.recv(&mut buffer).await.map_err(CheckError::Io)?;
        Ok::<_, CheckError>(buffer.get(..received).unwrap_or_default().to_vec())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) if check.require_reply => Err(CheckError::Timeout(timeout)),
        Err(_) => Ok(()),
        Ok(Err(error)) => Err(error),
        Ok(Ok(reply)) => {
            if check.reply.is_some() && !udp_reply_matches(check, &reply) {
                Err(CheckError::Protocol("reply data mismatch".into()))
            } else {
                Ok(())
            }
        }
    }
}

/// RFC 1071 Internet checksum.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| match pair {
            [a, b] => u32::from(u16::from_be_bytes([*a, *b])),
            [a] => u32::from(u16::from_be_bytes([*a, 0])),
            _ => 0,
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// PING_CHECK (keepalived `check_ping.c`): one ICMP / ICMPv6 echo request, success
/// on the matching echo reply. Uses an unprivileged datagram ICMP socket when the
/// host allows it (`net.ipv4.ping_group_range`), else a raw socket (root).
pub async fn ping_check(target: &Target) -> Result<(), CheckError> {
    let ip = target.addr.ip();
    let (domain, protocol, request_type, reply_type) = match ip {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4, 8u8, 0u8),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6, 128u8, 129u8),
    };
    let (socket, raw) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(socket) => (socket, false),
        Err(_) => (
            Socket::new(domain, Type::RAW, Some(protocol)).map_err(CheckError::Socket)?,
            true,
        ),
    };
    socket.set_nonblocking(true).map_err(CheckError::Socket)?;
    if let Some(mark) = target.fwmark {
        socket.set_mark(mark).map_err(CheckError::Socket)?;
    }
    if let Some(ifname) = &target.bind_if {
        socket
            .bind_device(Some(ifname.as_bytes()))
            .map_err(CheckError::Socket)?;
    }
    if let Some(bind) = target.bind {
        socket
            .bind(&SocketAddr::new(bind.ip(), 0).into())
            .map_err(CheckError::Socket)?;
    }
    let destination = SocketAddr::new(ip, 0);
    socket
        .connect(&destination.into())
        .map_err(CheckError::Connect)?;
    let socket =
        UdpSocket::from_std(std::net::UdpSocket::from(socket)).map_err(CheckError::Socket)?;

    // For datagram sockets the kernel owns the identifier; for raw ones we pick it.
    let identifier = fastrand::u16(..);
    let sequence = fastrand::u16(..);
    let mut request = vec![request_type, 0, 0, 0];
    request.extend_from_slice(&identifier.to_be_bytes());
    request.extend_from_slice(&sequence.to_be_bytes());
    request.extend_from_slice(b"keepalived-rs PING_CHECK");
    if ip.is_ipv4() {
        let checksum = internet_checksum(&request).to_be_bytes();
        if let Some(slot) = request.get_mut(2..4) {
            slot.copy_from_slice(&checksum);
        }
    }
    socket.send(&request).await.map_err(CheckError::Io)?;
    let mut buffer = vec![0u8; 2048];
    loop {
        let received = socket.recv(&mut buffer).await.map_err(CheckError::Io)?;
        let mut packet = buffer.get(..received).unwrap_or_default();
        if raw && ip.is_ipv4() {
            // Raw IPv4 sockets deliver the IP header too.
            let header_len = usize::from(packet.first().map_or(0, |b| b & 0x0f)) * 4;
            packet = packet.get(header_len..).unwrap_or_default();
        }
        let Some(header) = packet.get(..8) else {
            continue;
        };
        let same_sequence = header.get(6..8) == Some(&sequence.to_be_bytes()[..]);
        let same_identifier = !raw || header.get(4..6) == Some(&identifier.to_be_bytes()[..]);
        if header.first() == Some(&reply_type) && same_sequence && same_identifier {
            return Ok(());
        }
    }
}

/// The MISC_CHECK command and who runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscScript {
    /// argv (keepalived's split of `misc_path`).
    pub args: Vec<String>,
    /// uid/gid resolved by validation; `None` = keepalived's own (also when
    /// validation resolved exactly those).
    pub uid_gid: Option<(u32, u32)>,
}

impl MiscScript {
    pub fn of(script: &Script) -> MiscScript {
        MiscScript {
            args: script.args.clone(),
            // Compared once here, not on every check.
            uid_gid: script.uid_gid.filter(|&ids| ids != current_ids()),
        }
    }
}

/// What a MISC_CHECK run decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiscResult {
    /// Exit 0: up with the configured weight.
    Up,
    /// misc_dynamic exit 2..=255: up with weight `status - 2`.
    UpWithWeight(u32),
}

/// MISC_CHECK (keepalived `check_misc.c`): run the script as its user; exit 0
/// is success, and with `misc_dynamic` 2..=255 too (weight = status − 2); any
/// other status or a signal is a failure. The caller's deadline drops the future,
/// which kills the script (SIGKILL; keepalived sends SIGTERM first and then
/// SIGKILL to its process group).
pub async fn misc_check(script: &MiscScript, dynamic: bool) -> Result<MiscResult, CheckError> {
    let Some((program, args)) = script.args.split_first() else {
        return Err(CheckError::Protocol("empty misc_path".into()));
    };
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some((uid, gid)) = script.uid_gid {
        command.uid(uid).gid(gid);
    }
    let status = command
        .status()
        .await
        .map_err(|e| CheckError::Protocol(format!("cannot run {program}: {e}")))?;
    match status.code() {
        Some(0) => Ok(MiscResult::Up),
        Some(code @ 2..=255) if dynamic => Ok(MiscResult::UpWithWeight(
            u32::try_from(code - 2).unwrap_or(0),
        )),
        Some(code) => Err(CheckError::Protocol(format!("exited with status {code}"))),
        None => Err(CheckError::Protocol("killed by a signal".into())),
    }
}

fn current_ids() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    // /proc/self is owned by the process's effective uid and gid.
    std::fs::metadata("/proc/self").map_or((u32::MAX, u32::MAX), |m| (m.uid(), m.gid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_status_like_keepalived() {
        assert_eq!(smtp_status("220 mail ESMTP"), Some(220));
        assert_eq!(smtp_status("250"), Some(250));
        assert_eq!(smtp_status("220-multi"), None);
        assert_eq!(smtp_status("220\r"), None);
        assert_eq!(smtp_status("22"), None);
        assert_eq!(smtp_status("abc def"), None);
    }

    #[test]
    fn smtp_line_buffer_cuts_at_newline_and_wraps_like_keepalived() {
        let mut buffer = SmtpLineBuffer::default();
        assert_eq!(buffer.push(b"220 mail"), None);
        assert_eq!(
            buffer.push(b" ESMTP\r\n250 extra"),
            Some("220 mail ESMTP\r".into())
        );
        // The rest after the newline is dropped; the next line starts empty.
        assert_eq!(buffer.push(b"250 ok\n"), Some("250 ok".into()));
        // A NUL hides a later newline, as strchr on keepalived's C string.
        assert_eq!(buffer.push(b"220\0 x\n"), None);
        let mut endless = SmtpLineBuffer::default();
        for _ in 0..10 {
            let room = endless.room();
            assert!(room > 0 && room < SMTP_LINE_MAX);
            assert_eq!(endless.push(&vec![b'x'; room]), None);
        }
        assert_eq!(endless.overflows, 9);
        assert_eq!(endless.push(b"\n"), Some("".into()));
    }

    #[test]
    fn dns_reply_verdicts() {
        let query = dns_query(7, "example.org", RecordType::A).expect("query");
        // Our own query is not a response: ignored.
        assert!(dns_reply_verdict(7, &query).is_none());
        let mut reply = query.clone();
        reply[2] |= 0x80; // QR: response
        assert!(matches!(dns_reply_verdict(7, &reply), Some(Ok(()))));
        assert!(dns_reply_verdict(8, &reply).is_none());
        reply[3] = (reply[3] & 0xf0) | 3; // NXDOMAIN
        assert!(matches!(dns_reply_verdict(7, &reply), Some(Err(_))));
        assert!(dns_reply_verdict(7, &reply[..5]).is_none());
    }

    #[test]
    fn dns_query_bytes() {
        let query = dns_query(0x1234, "example.org", RecordType::A).expect("query");
        assert_eq!(
            query,
            [
                0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p',
                b'l', b'e', 3, b'o', b'r', b'g', 0, 0, 1, 0, 1
            ]
        );
        let root = dns_query(1, "", RecordType::SOA).expect("query");
        assert_eq!(root.get(12..), Some(&[0u8, 0, 6, 0, 1][..]));
        assert_eq!(dns_type("aaaa"), Some(RecordType::AAAA));
        assert_eq!(dns_type("PTR"), None);
    }

    #[test]
    fn udp_reply_matching() {
        let check = UdpCheck {
            reply: Some(vec![(b'O', 0), (b'K', 0), (0, 0xff)]),
            min_reply_length: 2,
            max_reply_length: 10,
            ..UdpCheck::default()
        };
        assert!(udp_reply_matches(&check, b"OK!"));
        assert!(udp_reply_matches(&check, b"OK"));
        assert!(!udp_reply_matches(&check, b"NO!"));
        assert!(!udp_reply_matches(&check, b"O"));
        assert!(!udp_reply_matches(&check, b"OK and far too long"));
    }

    #[test]
    fn checksum_rfc1071() {
        // RFC 1071 §3 example words sum to 0xddf2, so the checksum is !0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
    }
}
