//! The kernel's process-event connector (NETLINK_CONNECTOR, CN_IDX_PROC): fork, exec,
//! comm-change and exit of every process, as typed events. keepalived
//! `track_process.c` (`nl_connect()`, `set_proc_ev_listen()`, `handle_proc_ev()`)
//! drives `vrrp_track_process` with it.
//!
//! The connector exists only in the initial network namespace: in any other one the
//! subscription is refused (ECONNREFUSED). [`ProcEventSocket::open`] therefore tries
//! the current namespace, then the initial one (`/proc/1/ns/net`, entered by a
//! short-lived thread: a socket keeps the namespace it was created in). Callers fall
//! back to scanning `/proc` when both fail (no CONFIG_PROC_EVENTS, no privilege).
//!
//! Reading is blocking (one dedicated thread in the daemon): the socket is a plain
//! `netlink_sys::Socket`, so no `unsafe` is needed here.

use std::os::fd::AsFd;
use std::time::Duration;

use netlink_sys::protocols::NETLINK_CONNECTOR;
use netlink_sys::{Socket, SocketAddr};
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

/// `CN_IDX_PROC` / `CN_VAL_PROC` (linux/connector.h); the index is also the
/// multicast group to bind to.
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN` (linux/cn_proc.h).
const PROC_CN_MCAST_LISTEN: u32 = 1;
/// `NLMSG_DONE`: the type keepalived (and the kernel's own examples) use for the
/// subscription message.
const NLMSG_DONE: u16 = 3;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_HDRLEN: usize = 16;
/// `struct cn_msg`: id (idx, val), seq, ack, len, flags.
const CN_MSG_LEN: usize = 20;
/// `struct proc_event` header: what, cpu, timestamp_ns.
const PROC_EVENT_HDR: usize = 16;

const PROC_EVENT_NONE: u32 = 0;
const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_COMM: u32 = 0x200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// How long the kernel has to acknowledge the subscription (keepalived waits 0.1 s;
/// we are more patient with loaded machines).
const ACK_TIMEOUT: Duration = Duration::from_millis(500);

/// Why the connector cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProcEventsError {
    #[error("cannot open the process event connector: {0}")]
    Open(std::io::Error),
    #[error("cannot subscribe to process events: {0}")]
    Subscribe(std::io::Error),
    #[error("the kernel did not acknowledge the process event subscription")]
    NoAck,
    #[error("cannot enter the initial network namespace: {0}")]
    Namespace(String),
    /// ENOBUFS: events were lost; the caller should rescan `/proc`.
    #[error("process events lost (receive buffer overrun)")]
    Overrun,
    #[error("reading process events: {0}")]
    Receive(std::io::Error),
}

/// One process event. Thread events (pid ≠ tgid) are dropped: keepalived tracks
/// processes, not threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcEvent {
    /// A new process `child` forked from `parent`.
    Fork { parent: u32, child: u32 },
    /// Process `pid` executed a new program.
    Exec { pid: u32 },
    /// Process `pid` changed its name (prctl PR_SET_NAME) to `comm`.
    Comm { pid: u32, comm: String },
    /// Process `pid` exited.
    Exit { pid: u32 },
}

/// A subscribed connector socket.
#[derive(Debug)]
pub struct ProcEventSocket {
    socket: Socket,
    buffer: Vec<u8>,
    /// Whether the socket lives in the initial network namespace rather than ours.
    pub via_initial_namespace: bool,
}

impl ProcEventSocket {
    /// Subscribes in this network namespace, else in the initial one.
    pub fn open() -> Result<ProcEventSocket, ProcEventsError> {
        match Self::open_here() {
            Ok(socket) => Ok(socket),
            Err(ProcEventsError::Subscribe(e)) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                let mut socket = Self::open_in_initial_namespace()?;
                socket.via_initial_namespace = true;
                Ok(socket)
            }
            Err(e) => Err(e),
        }
    }

    /// Subscribes in the network namespace of the calling thread.
    pub fn open_here() -> Result<ProcEventSocket, ProcEventsError> {
        let mut socket = Socket::new(NETLINK_CONNECTOR).map_err(ProcEventsError::Open)?;
        socket
            .bind(&SocketAddr::new(0, CN_IDX_PROC))
            .map_err(ProcEventsError::Open)?;
        let mut this = ProcEventSocket {
            socket,
            buffer: Vec::with_capacity(8192),
            via_initial_namespace: false,
        };
        this.socket
            .send(&subscribe_message(), 0)
            .map_err(ProcEventsError::Subscribe)?;
        this.wait_for_ack()?;
        Ok(this)
    }

    /// Opens the socket from a thread that entered the initial network namespace.
    fn open_in_initial_namespace() -> Result<ProcEventSocket, ProcEventsError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let ns = std::fs::File::open("/proc/1/ns/net")
                        .map_err(|e| ProcEventsError::Namespace(e.to_string()))?;
                    nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                        .map_err(|e| ProcEventsError::Namespace(e.to_string()))?;
                    Self::open_here()
                })
                .join()
                .unwrap_or_else(|_| Err(ProcEventsError::Namespace("thread panicked".into())))
        })
    }

    /// keepalived learns that the connector works from the PROC_EVENT_NONE ack.
    fn wait_for_ack(&mut self) -> Result<(), ProcEventsError> {
        let deadline = std::time::Instant::now() + ACK_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(ProcEventsError::NoAck);
            }
            self.set_timeout(Some(left))?;
            self.buffer.clear();
            match self.socket.recv(&mut self.buffer, 0) {
                Ok(_) => {
                    if parse_messages(&self.buffer).1 {
                        self.set_timeout(None)?;
                        return Ok(());
                    }
                }
                Err(e) if is_timeout(&e) => return Err(ProcEventsError::NoAck),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(ProcEventsError::Receive(e)),
            }
        }
    }

    fn set_timeout(&self, timeout: Option<Duration>) -> Result<(), ProcEventsError> {
        let value = timeout.map_or(TimeVal::new(0, 0), |t| {
            // A zero timeval means "no timeout": never pass one for a real wait.
            let micros = i64::try_from(t.as_micros()).unwrap_or(i64::MAX).max(1);
            TimeVal::new(micros / 1_000_000, micros % 1_000_000)
        });
        setsockopt(&self.socket, sockopt::ReceiveTimeout, &value)
            .map_err(|e| ProcEventsError::Receive(e.into()))
    }

    /// Waits for the next datagram and returns its events (possibly none).
    pub fn recv(&mut self) -> Result<Vec<ProcEvent>, ProcEventsError> {
        loop {
            self.buffer.clear();
            match self.socket.recv(&mut self.buffer, 0) {
                Ok(_) => return Ok(parse_messages(&self.buffer).0),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    return Err(ProcEventsError::Overrun);
                }
                Err(e) => return Err(ProcEventsError::Receive(e)),
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::ETIMEDOUT))
}

/// nlmsghdr + cn_msg + PROC_CN_MCAST_LISTEN, in host byte order.
fn subscribe_message() -> Vec<u8> {
    let total = NLMSG_HDRLEN + CN_MSG_LEN + 4;
    let mut m = Vec::with_capacity(total);
    m.extend_from_slice(&u32::try_from(total).unwrap_or(0).to_ne_bytes());
    m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&std::process::id().to_ne_bytes());
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // ack
    m.extend_from_slice(&4u16.to_ne_bytes()); // len
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    m
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes(bytes.try_into().ok()?))
}

/// Decodes the netlink messages of one datagram: the process events, and whether a
/// subscription ack (PROC_EVENT_NONE) was among them. Anything malformed is skipped.
pub fn parse_messages(data: &[u8]) -> (Vec<ProcEvent>, bool) {
    let mut events = Vec::new();
    let mut acked = false;
    let mut offset = 0usize;
    while let Some(len) = u32_at(data, offset) {
        let Ok(len) = usize::try_from(len) else {
            break;
        };
        if len < NLMSG_HDRLEN {
            break;
        }
        let Some(message) = data.get(offset..offset.saturating_add(len)) else {
            break;
        };
        let kind = u16_at(message, 4).unwrap_or(NLMSG_NOOP);
        if kind != NLMSG_ERROR && kind != NLMSG_NOOP {
            match parse_event(message.get(NLMSG_HDRLEN..).unwrap_or_default()) {
                Some(Parsed::Ack) => acked = true,
                Some(Parsed::Event(e)) => events.push(e),
                None => {}
            }
        }
        // NLMSG_ALIGN
        offset = offset.saturating_add((len + 3) & !3);
    }
    (events, acked)
}

enum Parsed {
    Ack,
    Event(ProcEvent),
}

/// cn_msg + proc_event → an event for a process (not a thread).
fn parse_event(cn: &[u8]) -> Option<Parsed> {
    if u32_at(cn, 0)? != CN_IDX_PROC || u32_at(cn, 4)? != CN_VAL_PROC {
        return None;
    }
    let ev = cn.get(CN_MSG_LEN..)?;
    let what = u32_at(ev, 0)?;
    let body = ev.get(PROC_EVENT_HDR..)?;
    let field = |i: usize| u32_at(body, i * 4);
    Some(match what {
        PROC_EVENT_NONE => Parsed::Ack,
        PROC_EVENT_FORK => {
            // parent_pid, parent_tgid, child_pid, child_tgid
            let (parent_tgid, child_pid, child_tgid) = (field(1)?, field(2)?, field(3)?);
            if child_pid != child_tgid {
                return None;
            }
            Parsed::Event(ProcEvent::Fork {
                parent: parent_tgid,
                child: child_tgid,
            })
        }
        PROC_EVENT_EXEC => {
            let (pid, tgid) = (field(0)?, field(1)?);
            if pid != tgid {
                return None;
            }
            Parsed::Event(ProcEvent::Exec { pid })
        }
        PROC_EVENT_COMM => {
            let (pid, tgid) = (field(0)?, field(1)?);
            if pid != tgid {
                return None;
            }
            let raw = body.get(8..24)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            let comm = String::from_utf8_lossy(raw.get(..end)?).into_owned();
            Parsed::Event(ProcEvent::Comm { pid, comm })
        }
        PROC_EVENT_EXIT => {
            let (pid, tgid) = (field(0)?, field(1)?);
            if pid != tgid {
                return None;
            }
            Parsed::Event(ProcEvent::Exit { pid })
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(what: u32, fields: &[u32], tail: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        body.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        body.extend_from_slice(&[0u8; 12]);
        body.extend_from_slice(&what.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        body.extend_from_slice(&0u64.to_ne_bytes());
        for f in fields {
            body.extend_from_slice(&f.to_ne_bytes());
        }
        body.extend_from_slice(tail);
        let mut m = Vec::new();
        let len = u32::try_from(NLMSG_HDRLEN + body.len()).unwrap_or(0);
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&body);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    #[test]
    fn decodes_process_events_and_drops_threads() {
        let mut data = message(PROC_EVENT_NONE, &[], &[]);
        data.extend(message(PROC_EVENT_FORK, &[10, 10, 11, 11], &[]));
        data.extend(message(PROC_EVENT_FORK, &[10, 10, 12, 10], &[])); // a thread
        data.extend(message(PROC_EVENT_EXEC, &[11, 11], &[]));
        let mut comm = *b"worker\0\0\0\0\0\0\0\0\0\0";
        comm[15] = 0;
        data.extend(message(PROC_EVENT_COMM, &[11, 11], &comm));
        data.extend(message(PROC_EVENT_EXIT, &[11, 11, 0, 17, 10, 10], &[]));
        data.extend(message(PROC_EVENT_EXIT, &[12, 10, 0, 17, 10, 10], &[])); // a thread
        let (events, acked) = parse_messages(&data);
        assert!(acked);
        assert_eq!(
            events,
            vec![
                ProcEvent::Fork {
                    parent: 10,
                    child: 11
                },
                ProcEvent::Exec { pid: 11 },
                ProcEvent::Comm {
                    pid: 11,
                    comm: "worker".into()
                },
                ProcEvent::Exit { pid: 11 },
            ]
        );
    }

    #[test]
    fn garbage_is_skipped() {
        assert_eq!(parse_messages(&[]), (vec![], false));
        assert_eq!(parse_messages(&[0xff; 7]), (vec![], false));
        let mut truncated = message(PROC_EVENT_EXEC, &[11, 11], &[]);
        truncated.truncate(30);
        assert_eq!(parse_messages(&truncated), (vec![], false));
        let mut huge = message(PROC_EVENT_EXEC, &[11, 11], &[]);
        huge[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(parse_messages(&huge), (vec![], false));
    }

    /// The real connector sees a child we start exec and exit (root only).
    #[test]
    fn kernel_reports_exec_and_exit_of_a_child() {
        if !lab::is_root() {
            println!("SKIP: needs root");
            return;
        }
        let mut socket = match ProcEventSocket::open() {
            Ok(s) => s,
            Err(e) => {
                println!("SKIP: no process event connector here: {e}");
                return;
            }
        };
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("0.2")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        let _ = child.wait();
        let mut seen = Vec::new();
        let found = lab::wait_for(
            "exec and exit of the child",
            Duration::from_secs(10),
            Duration::ZERO,
            || {
                seen.extend(socket.recv().ok()?.into_iter().filter(|e| match e {
                    ProcEvent::Exec { pid: p } | ProcEvent::Exit { pid: p } => *p == pid,
                    ProcEvent::Fork { child, .. } => *child == pid,
                    ProcEvent::Comm { .. } => false,
                }));
                let exit = seen.contains(&ProcEvent::Exit { pid });
                (exit && seen.contains(&ProcEvent::Exec { pid })).then_some(())
            },
        );
        assert!(found.is_ok(), "{seen:?}");
    }

    /// From a fresh network namespace (no connector there) the socket is opened in
    /// the initial one (root only).
    #[test]
    fn outside_the_initial_namespace_the_initial_one_is_used() {
        if !lab::is_root() {
            println!("SKIP: needs root");
            return;
        }
        if ProcEventSocket::open_here().is_err() {
            println!("SKIP: no process event connector here");
            return;
        }
        let opened = std::thread::spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
            assert!(ProcEventSocket::open_here().is_err());
            ProcEventSocket::open().map(|s| s.via_initial_namespace)
        })
        .join()
        .expect("thread");
        match opened {
            Ok(via_initial) => assert!(via_initial),
            // Sandboxes may hide pid 1's namespace from us.
            Err(ProcEventsError::Namespace(e)) => println!("SKIP: {e}"),
            Err(e) => panic!("{e}"),
        }
    }
}
