//! Child programs of the VRRP runtime: `vrrp_script` checkers (run every `interval`,
//! `timeout`, `rise`/`fall`) and notify scripts (`notify_master`, ..., `notify`).
//!
//! Checkers run in their own tasks and only report status *changes* to the event loop,
//! which turns them into tracker inputs of the instances that `track_script` them.
//! Notify scripts are fire-and-forget (keepalived does not wait for them either);
//! tokio reaps them.

use std::time::Duration;

use config::model::vrrp::{Script, VrrpScript};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{debug, info, warn};
use vrrp::router::State;

use super::net::NetEvent;

/// Whether keepalived would run this script (its security verdict, when checked).
fn runnable(script: &Script, notify: bool) -> bool {
    script.verdict.as_ref().is_none_or(|v| {
        if notify {
            v.keep_notify()
        } else {
            v.keep_tracked()
        }
    })
}

fn command(script: &Script) -> Option<tokio::process::Command> {
    let (program, args) = script.args.split_first()?;
    let mut command = tokio::process::Command::new(program);
    command.args(args);
    if let Some((uid, gid)) = script.uid_gid {
        command.uid(uid).gid(gid);
    }
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    Some(command)
}

/// Runs a notify script with extra arguments, without waiting for it.
pub fn run_notify(script: &Script, extra: &[String]) {
    if !runnable(script, true) {
        return;
    }
    let Some(mut command) = command(script) else {
        return;
    };
    command.args(extra);
    debug!("Executing notify script {}", script.command_string());
    if let Err(e) = command.spawn() {
        warn!("cannot run notify script {}: {e}", script.command_string());
    }
}

/// The notify scripts of an instance or group for entering `state`: the state's own
/// script with its arguments as written, then `notify` with
/// `TYPE NAME STATE PRIORITY` appended (keepalived `notify_instance_exec()`).
pub fn notify_state(
    notify: &config::model::vrrp::Notify,
    kind: &str,
    name: &str,
    state: State,
    priority: u8,
) {
    let specific = match state {
        State::Master => notify.master.as_ref(),
        State::Backup => notify.backup.as_ref(),
        State::Fault => notify.fault.as_ref(),
        State::Stop => notify.stop.as_ref(),
        State::Init => None,
    };
    if let Some(script) = specific {
        run_notify(script, &[]);
    }
    if let Some(script) = &notify.notify {
        run_notify(
            script,
            &[
                kind.to_string(),
                name.to_string(),
                state.as_str().to_string(),
                priority.to_string(),
            ],
        );
    }
}

/// Starts the checker of a `vrrp_script` from status `initial_up` (keepalived: good
/// unless `init_fail`; after a reload, the previous result). Its status changes arrive
/// as [`NetEvent::Script`] carrying `index` (the caller's token). The handle stops it
/// (a reload that changes or removes the script).
pub fn spawn_checker(
    index: usize,
    script: &VrrpScript,
    initial_up: bool,
    events: UnboundedSender<NetEvent>,
) -> Option<tokio::task::AbortHandle> {
    let cmd = script.script.clone()?;
    if !runnable(&cmd, false) {
        warn!("VRRP_Script({}) cannot be run - ignored", script.name);
        return None;
    }
    let name = script.name.clone();
    let interval = Duration::from_secs(u64::from(script.interval.max(1)));
    // keepalived: no timeout means the interval.
    let timeout = if script.timeout == 0 {
        interval
    } else {
        Duration::from_secs(u64::from(script.timeout))
    };
    let rise = script.rise.max(1);
    let fall = script.fall.max(1);
    let task = tokio::spawn(async move {
        let mut up = initial_up;
        let mut streak = 0u32;
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(mut command) = command(&cmd) else {
                return;
            };
            command.kill_on_drop(true);
            let (ok, why) = match command.spawn() {
                Ok(mut child) => match tokio::time::timeout(timeout, child.wait()).await {
                    Ok(Ok(status)) => (
                        status.success(),
                        status.code().map_or_else(
                            || "killed by a signal".to_string(),
                            |c| format!("exited with status {c}"),
                        ),
                    ),
                    Ok(Err(e)) => (false, e.to_string()),
                    Err(_) => {
                        if let Some(pid) = child.id() {
                            kill_tree(pid);
                        }
                        let _ = child.kill().await;
                        (false, "timed out".to_string())
                    }
                },
                Err(e) => (false, format!("cannot run: {e}")),
            };
            // rise/fall: a change needs that many results in a row.
            if ok == up {
                streak = 0;
                continue;
            }
            streak += 1;
            let needed = if ok { rise } else { fall };
            if streak >= needed {
                streak = 0;
                up = ok;
                if up {
                    info!("VRRP_Script({name}) succeeded");
                } else {
                    info!("VRRP_Script({name}) failed ({why})");
                }
                if events.send(NetEvent::Script { index, up }).is_err() {
                    return;
                }
            }
        }
    });
    Some(task.abort_handle())
}

/// keepalived kills a timed-out script's whole process group. Ours stay in the
/// child's group (so the parent can end them if the child dies), so the script's
/// descendants are found through `/proc/PID/task/*/children` and killed with it —
/// all listed first, then killed, so none escapes by being re-parented.
fn kill_tree(pid: u32) {
    let mut pending = vec![pid];
    let mut tree = Vec::new();
    while let Some(p) = pending.pop() {
        if tree.contains(&p) {
            continue;
        }
        tree.push(p);
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
                pending.extend(
                    text.split_whitespace()
                        .filter_map(|c| c.parse::<u32>().ok()),
                );
            }
        }
    }
    for p in tree {
        if let Ok(raw) = i32::try_from(p) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(raw),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
