//! A small synchronous generic netlink transport: one `NETLINK_GENERIC`
//! socket, one request at a time, replies collected until the ACK (do
//! requests) or `NLMSG_DONE` (dumps).

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, send,
    setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;

use crate::error::DecodeError;
use crate::nla::{self, NlaWriter, align4};

pub const NLMSG_HDR_LEN: usize = 16;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_ACK: u16 = 0x04;
/// `NLM_F_ROOT | NLM_F_MATCH`.
pub const NLM_F_DUMP: u16 = 0x300;

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// The version ipvsadm (libnl) puts in its controller requests.
const CTRL_VERSION: u8 = 1;

/// How long to wait for the kernel. Requests may autoload modules
/// (ip_vs, a scheduler), which is slow under emulation; nothing should take
/// this long on real hardware.
pub const DEFAULT_RECV_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request failed at the transport level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// A socket call failed.
    Os(Errno),
    /// The kernel answered with this errno.
    Kernel(Errno),
    /// No answer within the receive timeout.
    Timeout,
    /// The answer is not well-formed netlink.
    Malformed(DecodeError),
}

impl From<DecodeError> for RequestError {
    fn from(e: DecodeError) -> Self {
        RequestError::Malformed(e)
    }
}

/// Builds one netlink message: `nlmsghdr` + `payload`.
pub fn nlmsg(msg_type: u16, flags: u16, seq: u32, payload: &[u8]) -> Option<Vec<u8>> {
    let len = u32::try_from(NLMSG_HDR_LEN.checked_add(payload.len())?).ok()?;
    let mut m = Vec::with_capacity(align4(NLMSG_HDR_LEN + payload.len()));
    m.extend_from_slice(&len.to_ne_bytes());
    m.extend_from_slice(&msg_type.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills ours in
    m.extend_from_slice(payload);
    Some(m)
}

/// One message of a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlMsg<'a> {
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

/// Splits a datagram into netlink messages.
pub fn split_messages(mut datagram: &[u8]) -> Result<Vec<NlMsg<'_>>, DecodeError> {
    let mut out = Vec::new();
    while !datagram.is_empty() {
        let header = datagram
            .get(..NLMSG_HDR_LEN)
            .ok_or(DecodeError::Netlink("truncated nlmsghdr"))?;
        let field = |at: usize| header.get(at..).unwrap_or_default();
        let len = ne_u32(field(0));
        let msg_type = ne_u16(field(4));
        let flags = ne_u16(field(6));
        let seq = ne_u32(field(8));
        let len = usize::try_from(len).map_err(|_| DecodeError::Netlink("nlmsg_len"))?;
        let payload = datagram
            .get(NLMSG_HDR_LEN..len)
            .filter(|_| len >= NLMSG_HDR_LEN)
            .ok_or(DecodeError::Netlink("nlmsg_len beyond the datagram"))?;
        out.push(NlMsg {
            msg_type,
            flags,
            seq,
            payload,
        });
        datagram = datagram.get(align4(len)..).unwrap_or_default();
    }
    Ok(out)
}

fn ne_u16(b: &[u8]) -> u16 {
    match b {
        [a, b, ..] => u16::from_ne_bytes([*a, *b]),
        _ => 0,
    }
}

fn ne_u32(b: &[u8]) -> u32 {
    match b {
        [a, b, c, d, ..] => u32::from_ne_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

/// The errno in an `NLMSG_ERROR` / `NLMSG_DONE` payload (`int error`, negative).
fn error_code(payload: &[u8]) -> Result<i32, DecodeError> {
    match payload {
        [a, b, c, d, ..] => Ok(i32::from_ne_bytes([*a, *b, *c, *d])),
        _ => Err(DecodeError::Netlink("truncated error code")),
    }
}

fn errno_of(code: i32) -> Errno {
    Errno::from_raw(code.checked_neg().unwrap_or(i32::MAX))
}

/// A generic netlink socket.
#[derive(Debug)]
pub struct GenlSocket {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl GenlSocket {
    pub fn open() -> Result<Self, Errno> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkGeneric,
        )?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0))?;
        let mut sock = GenlSocket {
            fd,
            seq: 0,
            buf: vec![0; 32 * 1024],
        };
        sock.set_recv_timeout(DEFAULT_RECV_TIMEOUT)?;
        Ok(sock)
    }

    pub fn set_recv_timeout(&mut self, timeout: Duration) -> Result<(), Errno> {
        setsockopt(
            &self.fd,
            sockopt::ReceiveTimeout,
            &TimeVal::new(
                i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
                i64::from(timeout.subsec_micros()),
            ),
        )
    }

    /// Sends one request and returns the payloads of all data replies (for
    /// generic netlink: genl header + attributes), in order.
    pub fn request(
        &mut self,
        msg_type: u16,
        flags: u16,
        payload: &[u8],
    ) -> Result<Vec<Vec<u8>>, RequestError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let msg = nlmsg(msg_type, flags | NLM_F_REQUEST, seq, payload).ok_or(
            RequestError::Malformed(DecodeError::Netlink("request too long")),
        )?;
        let sent = send(self.fd.as_raw_fd(), &msg, MsgFlags::empty()).map_err(RequestError::Os)?;
        if sent != msg.len() {
            return Err(RequestError::Os(Errno::EMSGSIZE));
        }
        let mut replies = Vec::new();
        loop {
            let datagram = self.recv_datagram()?;
            for m in split_messages(datagram)? {
                if m.seq != seq {
                    continue; // not ours: a late answer to an abandoned request
                }
                match m.msg_type {
                    NLMSG_NOOP => {}
                    NLMSG_ERROR => {
                        let code = error_code(m.payload)?;
                        if code != 0 {
                            return Err(RequestError::Kernel(errno_of(code)));
                        }
                        if !dump {
                            return Ok(replies); // the ACK ends a do request
                        }
                    }
                    NLMSG_DONE => {
                        // Since Linux 2.6.x, DONE carries the dump's status.
                        if let Ok(code) = error_code(m.payload)
                            && code < 0
                        {
                            return Err(RequestError::Kernel(errno_of(code)));
                        }
                        return Ok(replies);
                    }
                    NLMSG_OVERRUN => return Err(RequestError::Kernel(Errno::ENOBUFS)),
                    _ => replies.push(m.payload.to_vec()),
                }
            }
        }
    }

    /// Receives one whole datagram, growing the buffer when the kernel's
    /// message is larger (peeked with MSG_TRUNC, which reports the real size).
    fn recv_datagram(&mut self) -> Result<&[u8], RequestError> {
        let fd = self.fd.as_raw_fd();
        let wanted = loop {
            match recv(fd, &mut self.buf, MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC) {
                Ok(n) => break n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(RequestError::Timeout),
                Err(e) => return Err(RequestError::Os(e)),
            }
        };
        if wanted > self.buf.len() {
            self.buf.resize(wanted, 0);
        }
        let n = loop {
            match recv(fd, &mut self.buf, MsgFlags::empty()) {
                Ok(n) => break n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(RequestError::Timeout),
                Err(e) => return Err(RequestError::Os(e)),
            }
        };
        self.buf
            .get(..n)
            .ok_or(RequestError::Malformed(DecodeError::Netlink(
                "datagram larger than the buffer",
            )))
    }

    /// Resolves a generic netlink family name to its id (`CTRL_CMD_GETFAMILY`).
    /// The kernel autoloads the module behind the name first
    /// (`net-pf-16-proto-16-family-<name>`), e.g. `ip_vs` for "IPVS".
    pub fn resolve_family(&mut self, name: &str) -> Result<u16, RequestError> {
        let mut attrs = NlaWriter::new();
        attrs
            .put_cstr(CTRL_ATTR_FAMILY_NAME, name)
            .map_err(|_| RequestError::Kernel(Errno::EINVAL))?;
        let mut payload = vec![CTRL_CMD_GETFAMILY, CTRL_VERSION, 0, 0];
        payload.extend_from_slice(&attrs.into_bytes());
        let replies = self.request(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, &payload)?;
        for reply in &replies {
            let attrs = reply.get(4..).ok_or(DecodeError::Truncated {
                what: "genl header",
            })?;
            for attr in nla::iter(attrs) {
                let attr = attr?;
                if attr.kind == CTRL_ATTR_FAMILY_ID {
                    return Ok(attr.u16("family id")?);
                }
            }
        }
        Err(RequestError::Malformed(DecodeError::Missing {
            what: "CTRL_ATTR_FAMILY_ID",
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests {
    use super::*;

    #[test]
    fn nlmsg_header_layout() {
        let m = nlmsg(0x1a, NLM_F_REQUEST | NLM_F_ACK, 7, &[1, 2, 3, 4]).unwrap();
        assert_eq!(m.len(), 20);
        assert_eq!(&m[..4], &20u32.to_ne_bytes());
        assert_eq!(&m[4..6], &0x1au16.to_ne_bytes());
        assert_eq!(&m[6..8], &5u16.to_ne_bytes());
        assert_eq!(&m[8..12], &7u32.to_ne_bytes());
        assert_eq!(&m[16..], &[1, 2, 3, 4]);
    }

    #[test]
    fn split_messages_walks_aligned_messages_and_rejects_bad_lengths() {
        let mut d = nlmsg(NLMSG_DONE, 2, 9, &0i32.to_ne_bytes()).unwrap();
        d.extend(nlmsg(0x20, 2, 9, &[1, 2, 3, 4, 5]).unwrap());
        d.extend([0, 0, 0]); // padding of the last message
        let msgs = split_messages(&d).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].msg_type, NLMSG_DONE);
        assert_eq!(msgs[1].payload, &[1, 2, 3, 4, 5]);

        let mut bad = nlmsg(0x20, 0, 1, &[]).unwrap();
        bad[0] = 200;
        assert!(split_messages(&bad).is_err());
        bad[0] = 8; // shorter than the header itself
        assert!(split_messages(&bad).is_err());
        assert!(split_messages(&[1, 2, 3]).is_err());
    }

    #[test]
    fn error_codes_become_errnos() {
        assert_eq!(errno_of(-17), Errno::EEXIST);
        assert_eq!(error_code(&(-3i32).to_ne_bytes()), Ok(-3));
        assert!(error_code(&[1]).is_err());
        // i32::MIN cannot be negated: no panic, some errno.
        let _ = errno_of(i32::MIN);
    }
}
