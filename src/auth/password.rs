//! Argon2id password hashes. Hashing is deliberately slow, so it runs off
//! the runtime, on a few threads of its own rather than tokio's blocking
//! pool: each hash allocates ~19 MiB, and the allocator keeps freed memory
//! per thread, so hashes spread over dozens of blocking threads would leave
//! dozens of those blocks resident. A handful of threads reuse theirs.

use std::cell::RefCell;
use std::sync::mpsc;
use std::sync::{LazyLock, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Hashing could not run.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads, as many as there are cores (concurrency is bounded
/// further up, by [`super::hash_gate`]).
static THREADS: LazyLock<Mutex<mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = std::sync::Arc::new(Mutex::new(rx));
    let count = std::thread::available_parallelism().map_or(1, usize::from);
    for i in 0..count {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || loop {
                let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "cannot start a hashing thread");
        }
    }
    Mutex::new(tx)
});

/// Runs `f` on a hashing thread; `None` if it could not run.
async fn on_hashing_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    THREADS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .ok()?;
    rx.await.ok()
}

/// Hashes `password` into a PHC string.
pub async fn hash(password: String) -> Result<String, HashError> {
    on_hashing_thread(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .ok_or_else(|| HashError("no hashing thread".into()))?
}

/// Checks `password` against `stored`. With `None` (unknown user) it still
/// spends the time of one verification so that timing does not reveal which
/// usernames exist.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    on_hashing_thread(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = PasswordHash::new(&stored)
            .map(|parsed| BLOCKS.with_borrow_mut(|blocks| matches(&password, &parsed, blocks)))
            .unwrap_or(false);
        known && ok
    })
    .await
    .unwrap_or(false)
}

thread_local! {
    /// The hashing thread's argon2 memory (~19 MiB), kept for its next
    /// verification. Left to the allocator, a freed block lingers until it
    /// is purged while the next hash maps a new one: a login flood then held
    /// up to twice the blocks the hashing slots need.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Whether `password` hashes to `stored`, computed in `blocks` (grown to
/// the hash's memory cost if needed).
fn matches(password: &str, stored: &PasswordHash, blocks: &mut Vec<Block>) -> bool {
    let (Some(expected), Some(salt)) = (stored.hash, stored.salt) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(stored),
        Algorithm::try_from(stored.algorithm),
    ) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..])
        .is_ok()
        // `Output` compares in constant time.
        && Output::new(&out).is_ok_and(|out| out == expected)
}

/// A hash of a random password, with the default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3RhbXBlZGVkdW1teQ$J0pJm0d8Q1N5u3mJ1k0Jmcd+o1I9c1Yl9Zq2o0m3QmE";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip() {
        let h = hash("secret".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("secret".into(), Some(h.clone())).await);
        assert!(!verify("Secret".into(), Some(h)).await);
        assert!(!verify("secret".into(), None).await);
    }

    #[test]
    fn verification_reuses_its_memory_and_checks_every_part() {
        let salt = SaltString::generate(&mut OsRng);
        let stored = Argon2::default()
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&stored).unwrap();
        let mut blocks = Vec::new();
        assert!(matches("pw", &parsed, &mut blocks));
        let size = blocks.len();
        assert_eq!(size, Params::default().block_count());
        assert!(!matches("pW", &parsed, &mut blocks));
        assert_eq!(blocks.len(), size, "the same memory serves the next check");
        // Other parameters (a hash made with a cheaper setting) still verify.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let stored = cheap.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(matches(
            "pw",
            &PasswordHash::new(&stored).unwrap(),
            &mut blocks
        ));
        // A PHC string without its hash matches nothing.
        let bare = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c3RhbXBlZGVkdW1teQ").unwrap();
        assert!(!matches("pw", &bare, &mut blocks));
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
