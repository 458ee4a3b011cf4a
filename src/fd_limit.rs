//! The process's open-file limit. Every socket is a file, and the usual soft
//! limit (often 1,024) stops a node or the load generator long before memory
//! does; the hard limit is what the administrator allows, so both lift their
//! soft limit to it when they start.

use std::io;

use rlimit::Resource;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft
/// limit now in force.
pub fn raise() -> io::Result<u64> {
    let (soft, hard) = Resource::NOFILE.get()?;
    if soft < hard {
        Resource::NOFILE.set(hard, hard)?;
    }
    Ok(Resource::NOFILE.get()?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifts_a_lowered_soft_limit_back_to_the_hard_limit() {
        let (_, hard) = Resource::NOFILE.get().expect("getrlimit");
        // One below the hard limit: low enough to see the raise, high enough
        // not to starve the other tests of this process.
        Resource::NOFILE.set(hard - 1, hard).expect("setrlimit");
        assert_eq!(Resource::NOFILE.get().expect("getrlimit").0, hard - 1);
        assert_eq!(raise().expect("raise"), hard);
        assert_eq!(Resource::NOFILE.get().expect("getrlimit").0, hard);
    }
}
