//! The process's open-file limit. Every socket is a file, and the usual soft
//! limit (often 1,024) stops a node or the load generator long before memory
//! does; the hard limit is what the administrator allows, so both lift their
//! soft limit to it when they start.

use std::io;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft
/// limit now in force.
pub fn raise() -> io::Result<u64> {
    let mut limit = current()?;
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit only reads the struct passed to it.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur as u64)
}

fn current() -> io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed to it.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifts_a_lowered_soft_limit_back_to_the_hard_limit() {
        let hard = current().expect("getrlimit").rlim_max;
        // One below the hard limit: low enough to see the raise, high enough
        // not to starve the other tests of this process.
        let lowered = libc::rlimit {
            rlim_cur: hard - 1,
            rlim_max: hard,
        };
        // SAFETY: as in `raise`.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) }, 0);
        assert_eq!(current().expect("getrlimit").rlim_cur, hard - 1);
        assert_eq!(raise().expect("raise"), hard as u64);
        assert_eq!(current().expect("getrlimit").rlim_cur, hard);
    }
}
