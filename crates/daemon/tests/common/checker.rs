//! Shared by the checker tests (`checker_runtime.rs`, `checker_vm.rs`): loopback
//! real servers and a scratch directory, both cleaned up on drop, also on failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// A loopback listener answering HTTP/1.0 200 (a TCP_CHECK just connects),
/// stoppable and restartable on the same port.
pub struct Server {
    pub port: u16,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on 127.0.0.1:`port` (0: a free port, see [`Server::port`]).
    pub fn start(rt: &tokio::runtime::Runtime, port: u16) -> Server {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .expect("bind");
        let port = listener.local_addr().expect("local address").port();
        let task = rt.spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 1024];
                    let mut request = Vec::new();
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let _ = stream
                        .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                        .await;
                });
            }
        });
        Server {
            port,
            task: Some(task),
        }
    }

    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    pub fn restart(&mut self, rt: &tokio::runtime::Runtime) {
        self.stop();
        *self = Server::start(rt, self.port);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh directory under TMPDIR for one test, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("kl-checker-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
