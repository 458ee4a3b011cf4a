//! The container image, checked without a container engine (none runs on
//! this machine): the `Dockerfile`'s runtime stage is carried out into a root
//! filesystem of its own — its Debian base by `debootstrap`, each `RUN` in a
//! chroot, the built binary copied where `COPY --from=build` puts it — and
//! `compose.yaml`'s start command then runs in that root as the image's
//! user, against a database of the test's own, until the image's
//! `HEALTHCHECK` passes.
//!
//! What this proves: the runtime stage installs, the binary runs on the
//! base's libraries with nothing from the source tree, as uid 10001, and the
//! demo comes up with the compose command. What it cannot: the build
//! stage's `cargo build` inside `rust:*-bookworm` (the same command and
//! toolchain build the binary copied here), and network isolation (the
//! chroot shares the host's network, so the port is moved off 8000).
//!
//! Needs root (chroot) and `debootstrap` (scripts/test installs it). The
//! debootstrapped base is cached in `.stampede-run/rootfs/`; the `RUN`
//! steps run afresh every time.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{eventually, free_port, TestDb, EVENT_TIMEOUT};

const BINARY: &str = env!("CARGO_BIN_EXE_stampede");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// One instruction of a Dockerfile: keyword and the rest of the line.
#[derive(Debug, Clone)]
struct Instruction {
    keyword: String,
    args: String,
}

/// The Dockerfile as instructions (continuations joined, comments dropped),
/// split into stages at each `FROM`.
fn stages(text: &str) -> Vec<Vec<Instruction>> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Vec<Instruction>> = Vec::new();
    for line in logical {
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let instruction = Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        };
        if instruction.keyword == "FROM" {
            stages.push(Vec::new());
        }
        stages
            .last_mut()
            .expect("a Dockerfile starts with FROM")
            .push(instruction);
    }
    stages
}

fn run(command: &mut Command, what: &str) {
    let status = command.status().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what}: {status}");
}

/// A chroot command in `root`, as `user` (uid:gid) when given, with a
/// clean environment plus `env`.
fn in_root(root: &Path, user: Option<(u32, u32)>, env: &[(String, String)]) -> Command {
    let mut command = Command::new("chroot");
    if let Some((uid, gid)) = user {
        command.arg(format!("--userspec={uid}:{gid}"));
    }
    command.arg(root).env_clear().env(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// A fresh copy of the debootstrapped `suite` (minbase, the closest to
/// `-slim`), made once and cached as a tarball.
fn base_root(suite: &str) -> PathBuf {
    let cache = Path::new(REPO).join(".stampede-run/rootfs");
    std::fs::create_dir_all(&cache).expect("rootfs cache dir");
    let tarball = cache.join(format!("{suite}-minbase.tar"));
    if !tarball.exists() {
        let build = cache.join(format!("{suite}-building"));
        let _ = std::fs::remove_dir_all(&build);
        run(
            Command::new("debootstrap")
                .args(["--variant=minbase", suite])
                .arg(&build)
                .arg("http://deb.debian.org/debian")
                .stdout(Stdio::null()),
            "debootstrap (scripts/test installs it; it needs root)",
        );
        let partial = cache.join(format!("{suite}-minbase.tar.partial"));
        run(
            Command::new("tar")
                .arg("-C")
                .arg(&build)
                .arg("-cf")
                .arg(&partial)
                .arg("."),
            "tar the base",
        );
        std::fs::rename(&partial, &tarball).expect("keep the base");
        std::fs::remove_dir_all(&build).expect("remove the build dir");
    }
    let root = cache.join(format!("run-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&root).expect("root dir");
    run(
        Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-xf")
            .arg(&tarball),
        "unpack the base",
    );
    // The chroot shares the host's network; apt needs its resolver.
    std::fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf")).expect("resolv.conf");
    root
}

/// Removes the root when the test ends, however it ends.
struct RootDir(PathBuf);

impl Drop for RootDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// uid and gid of `name` in the root's /etc/passwd.
fn ids_of(root: &Path, name: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).expect("passwd");
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f[0] == name || f[2] == name)
        .map(|f| (f[2].parse().unwrap(), f[3].parse().unwrap()))
        .unwrap_or_else(|| panic!("USER {name} is not in the image's /etc/passwd"))
}

/// `["a", "b"]` (exec form) as a list.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("not exec form: {args}: {e}"))
}

/// The compose service `stampede`'s `entrypoint` (a flow sequence of
/// quoted strings, which is JSON).
fn compose_entrypoint(compose: &str) -> Vec<String> {
    let service = compose
        .split("\n  stampede:\n")
        .nth(1)
        .expect("compose.yaml has a stampede service");
    let line = service
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("entrypoint:"))
        .expect("the stampede service sets its entrypoint");
    exec_form(line.trim())
}

#[tokio::test]
async fn the_image_runtime_stage_runs_the_demo_as_its_user_and_passes_its_healthcheck() {
    let dockerfile = std::fs::read_to_string(Path::new(REPO).join("Dockerfile")).unwrap();
    let compose = std::fs::read_to_string(Path::new(REPO).join("compose.yaml")).unwrap();
    let stages = stages(&dockerfile);
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");

    // The build stage makes the binary the runtime stage copies.
    let build = &stages[0];
    let build_name = build[0]
        .args
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("AS"))
        .map(|w| w[1].to_owned())
        .expect("the build stage is named");
    let workdir = build
        .iter()
        .rev()
        .find(|i| i.keyword == "WORKDIR")
        .map(|i| i.args.clone())
        .expect("the build stage has a WORKDIR");
    let last_run = build
        .iter()
        .rev()
        .find(|i| i.keyword == "RUN")
        .expect("the build stage builds");
    assert!(
        last_run
            .args
            .contains("cargo build --release --locked --bin stampede"),
        "{}",
        last_run.args
    );
    let built = format!("{workdir}/target/release/stampede");

    let runtime = &stages[1];
    let base = &runtime[0].args;
    let suite = base
        .strip_prefix("debian:")
        .and_then(|s| s.strip_suffix("-slim"))
        .unwrap_or_else(|| panic!("the runtime base is debian:<suite>-slim, not {base}"));

    let root = RootDir(base_root(suite));
    let root_path = root.0.clone();
    let mut user: Option<(u32, u32)> = None;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut exposed = Vec::new();
    let mut healthcheck = None;
    let mut entrypoint = Vec::new();
    let mut cmd = Vec::new();
    for step in &runtime[1..] {
        match step.keyword.as_str() {
            "RUN" => {
                let mut env = env.clone();
                env.push(("DEBIAN_FRONTEND".into(), "noninteractive".into()));
                run(
                    in_root(&root_path, user, &env)
                        .args(["/bin/sh", "-c", &step.args])
                        .stdout(Stdio::null()),
                    &format!("RUN {}", step.args),
                );
            }
            "COPY" => {
                let words: Vec<&str> = step.args.split_whitespace().collect();
                assert_eq!(
                    words,
                    [
                        &format!("--from={build_name}") as &str,
                        &built,
                        "/usr/local/bin/stampede"
                    ],
                    "the runtime stage copies only the built binary"
                );
                let dest = root_path.join("usr/local/bin/stampede");
                std::fs::copy(BINARY, &dest).expect("copy the binary");
            }
            "USER" => user = Some(ids_of(&root_path, &step.args)),
            "ENV" => {
                let (k, v) = step.args.split_once('=').expect("ENV key=value");
                env.push((k.to_owned(), v.to_owned()));
            }
            "EXPOSE" => exposed.push(step.args.clone()),
            "HEALTHCHECK" => {
                let (_, command) = step.args.split_once("CMD ").expect("HEALTHCHECK CMD");
                healthcheck = Some(command.to_owned());
            }
            "ENTRYPOINT" => entrypoint = exec_form(&step.args),
            "CMD" => cmd = exec_form(&step.args),
            other => panic!("the runtime stage uses {other}, which this test does not carry out"),
        }
    }

    // Non-root, with the uid the issue asks for.
    assert_eq!(user, Some((10001, ids_of(&root_path, "stampede").1)));
    let uid = user.unwrap().0;
    assert_eq!(entrypoint, ["stampede"]);
    assert_eq!(cmd, ["serve"]);
    let bind = env
        .iter()
        .find(|(k, _)| k == "STAMPEDE_BIND")
        .map(|(_, v)| v.clone())
        .expect("the image binds on all interfaces by ENV");
    assert_eq!(bind, "0.0.0.0:8000");
    assert_eq!(exposed, ["8000"]);
    let healthcheck = healthcheck.expect("a HEALTHCHECK");
    assert!(
        healthcheck.contains("127.0.0.1:8000/health"),
        "{healthcheck}"
    );

    // Start it the way compose does, against a database of our own; the
    // port moves because the chroot shares the host's network.
    let db = TestDb::create().await;
    let port = free_port();
    let mut env = env.clone();
    env.retain(|(k, _)| k != "STAMPEDE_BIND");
    env.push(("STAMPEDE_BIND".into(), format!("127.0.0.1:{port}")));
    env.push(("DATABASE_URL".into(), db.url.clone()));
    env.push(("STAMPEDE_LOG".into(), "warn".into()));
    let start = compose_entrypoint(&compose);
    assert!(
        start
            .last()
            .is_some_and(|c| c.ends_with("exec stampede serve")),
        "{start:?}"
    );
    let mut server = in_root(&root_path, user, &env)
        .args(&start)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the image's command");
    let server_pid = server.id();
    let _server = KillOnDrop(server_pid);

    let check = healthcheck.replace(":8000/", &format!(":{port}/"));
    eventually(EVENT_TIMEOUT * 3, "the HEALTHCHECK never passed", || {
        if let Ok(Some(status)) = server.try_wait() {
            panic!("the image's command exited: {status}");
        }
        let passed = in_root(&root_path, user, &[])
            .args(["/bin/sh", "-c", &check])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run the HEALTHCHECK")
            .success();
        async move { passed.then_some(()) }
    })
    .await;

    // The server itself runs as the image's user.
    let status = std::fs::read_to_string(format!("/proc/{server_pid}/status")).expect("status");
    let uids = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .expect("Uid line");
    assert!(
        uids.split_whitespace().all(|u| u == uid.to_string()),
        "{uids}"
    );

    // The demo tenant answers on 127.0.0.1 (one of its domains).
    let health: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "ok", "{health}");
    let page = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/"))
        .header("Host", "demo.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

/// Kills the server (the image's command execs it) when the test ends.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SAFETY: a plain signal to a process this test started.
        unsafe {
            libc::kill(self.0 as libc::pid_t, libc::SIGKILL);
        }
    }
}
