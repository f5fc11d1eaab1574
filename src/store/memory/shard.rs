//! One shard of the memory store: its records, families and open grace
//! windows, and every step on them (each runs under the shard's lock).

use std::collections::{BTreeMap, HashMap};

use super::super::rules::{next_step, successor_until, Step, Stored};
use super::super::{warn_reuse, BlacklistOutcome, Refusal, Rotation, RotationOutcome};
use super::MemoryTokenStore;

/// One shard's records. Our `jti`s (32 lowercase hex digits) are kept as
/// 16-byte keys; any other `jti` (a foreign token's) as text. Subjects and
/// families are kept as keyed 64-bit hashes.
#[derive(Debug, Default)]
pub(super) struct Shard {
    pub(super) hex: HashMap<u128, Record>,
    pub(super) text: HashMap<Box<str>, Record>,
    /// Families by keyed hash of their first `jti`.
    pub(super) families: HashMap<u64, Family>,
    /// The tokens holding a sealed successor, by the end of its window, so
    /// that erasing the ended ones walks only those.
    windows: BTreeMap<u64, Vec<OwnedKey>>,
}

#[derive(Debug)]
pub(super) struct Record {
    /// Keyed hash of the family's first `jti`.
    pub(super) family: u64,
    /// Keyed hash of the subject.
    pub(super) subject: u64,
    /// [`RecordedToken::retained_until`](super::super::RecordedToken::retained_until).
    pub(super) keep_until: u64,
    pub(super) state: State,
}

#[derive(Debug)]
pub(super) struct Family {
    /// Keyed hash of the subject.
    pub(super) subject: u64,
    pub(super) revoked: bool,
    /// The latest `keep_until` of its tokens.
    pub(super) keep_until: u64,
}

#[derive(Debug)]
pub(super) enum State {
    Active,
    Used(Box<Used>),
    Blacklisted,
}

#[derive(Debug)]
pub(super) struct Used {
    /// The sealed successor and the end of its window.
    pub(super) sealed_successor: Option<(Box<str>, u64)>,
    pub(super) rotated_at: u64,
}

impl Used {
    /// A used token whose successor is not kept.
    pub(super) fn without_successor(rotated_at: u64) -> State {
        State::Used(Box::new(Used {
            sealed_successor: None,
            rotated_at,
        }))
    }
}

/// A `jti` as a key of the shard's maps.
pub(super) enum Key<'a> {
    Hex(u128),
    Text(&'a str),
}

/// A [`Key`] kept in the shard's window index.
#[derive(Debug)]
enum OwnedKey {
    Hex(u128),
    Text(Box<str>),
}

impl<'a> Key<'a> {
    pub(super) fn of(jti: &'a str) -> Self {
        let hex = jti.len() == 32
            && jti
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        match hex.then(|| u128::from_str_radix(jti, 16).ok()).flatten() {
            Some(value) => Key::Hex(value),
            None => Key::Text(jti),
        }
    }

    fn to_owned_key(&self) -> OwnedKey {
        match self {
            Key::Hex(key) => OwnedKey::Hex(*key),
            Key::Text(key) => OwnedKey::Text((*key).into()),
        }
    }
}

impl Shard {
    pub(super) fn get(&self, jti: &str) -> Option<&Record> {
        match Key::of(jti) {
            Key::Hex(key) => self.hex.get(&key),
            Key::Text(key) => self.text.get(key),
        }
    }

    pub(super) fn get_mut(&mut self, jti: &str) -> Option<&mut Record> {
        match Key::of(jti) {
            Key::Hex(key) => self.hex.get_mut(&key),
            Key::Text(key) => self.text.get_mut(key),
        }
    }

    pub(super) fn insert(&mut self, jti: &str, record: Record) {
        match Key::of(jti) {
            Key::Hex(key) => self.hex.insert(key, record),
            Key::Text(key) => self.text.insert(key.into(), record),
        };
    }

    /// Creates the family if missing and keeps it at least until `keep_until`.
    fn insert_family(&mut self, family: u64, subject: u64, keep_until: u64) {
        let entry = self.families.entry(family).or_insert(Family {
            subject,
            revoked: false,
            keep_until,
        });
        entry.keep_until = entry.keep_until.max(keep_until);
    }

    /// Records `jti` as an active token of `family`, keeping both at least until `keep_until`.
    pub(super) fn insert_active(&mut self, jti: &str, family: u64, subject: u64, keep_until: u64) {
        self.insert_family(family, subject, keep_until);
        let record = Record {
            family,
            subject,
            keep_until,
            state: State::Active,
        };
        self.insert(jti, record);
    }

    pub(super) fn family_revoked(&self, family: u64) -> bool {
        self.families
            .get(&family)
            .is_some_and(|family| family.revoked)
    }

    /// Revokes the family: one flag, whatever its length. Returns whether it was not revoked before.
    pub(super) fn revoke_family(&mut self, family: u64, subject: u64, keep_until: u64) -> bool {
        self.insert_family(family, subject, keep_until);
        match self.families.get_mut(&family) {
            Some(entry) => !std::mem::replace(&mut entry.revoked, true),
            None => false,
        }
    }

    pub(super) fn rotate(
        &mut self,
        store: &MemoryTokenStore,
        rotation: Rotation,
        now: u64,
    ) -> RotationOutcome {
        let Rotation {
            presented,
            successor,
            sealed_successor,
            rules,
        } = rotation;
        let subject = store.hash(&presented.subject);
        let record = self.get(&presented.jti);
        let family_revoked = record.is_some_and(|record| self.family_revoked(record.family));
        let stored = record.map(|record| match &record.state {
            State::Active => Stored::Active,
            State::Used(used) => Stored::Used {
                sealed_successor: used
                    .sealed_successor
                    .as_ref()
                    .filter(|(_, until)| now < *until)
                    .map(|(sealed, _)| &**sealed),
                rotated_at: used.rotated_at,
            },
            State::Blacklisted => Stored::Blacklisted,
        });
        match next_step(stored, family_revoked, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(sealed_successor) => RotationOutcome::Replayed { sealed_successor },
            Step::Reuse { revoke_family } => {
                let mut family = 0;
                let mut keep_until = presented.retained_until();
                if let Some(record) = self.get_mut(&presented.jti) {
                    record.state = State::Blacklisted;
                    family = record.family;
                    keep_until = keep_until.max(record.keep_until);
                }
                let revoked = revoke_family && self.revoke_family(family, subject, keep_until);
                warn_reuse(
                    &presented.jti,
                    &presented.subject,
                    &format!("{family:016x}"),
                    revoked,
                );
                RotationOutcome::Refused(Refusal::Reused)
            }
            step @ (Step::AdoptAndRotate | Step::Rotate) => {
                if step == Step::AdoptAndRotate {
                    let family = store.hash(&presented.jti);
                    let keep_until = presented.retained_until();
                    self.insert_active(&presented.jti, family, subject, keep_until);
                }
                let Some(record) = self.get_mut(&presented.jti) else {
                    return RotationOutcome::Refused(Refusal::Unrecorded);
                };
                let family = record.family;
                if rules.blacklist_after_rotation {
                    let until = successor_until(&rules, sealed_successor.as_deref(), now);
                    let kept = sealed_successor.zip(until);
                    record.state = State::Used(Box::new(Used {
                        sealed_successor: kept.map(|(sealed, until)| (sealed.into(), until)),
                        rotated_at: now,
                    }));
                    if let Some(until) = until {
                        let key = Key::of(&presented.jti).to_owned_key();
                        self.windows.entry(until).or_default().push(key);
                    }
                }
                let keep_until = successor.retained_until();
                self.insert_active(&successor.jti, family, subject, keep_until);
                RotationOutcome::Rotated
            }
        }
    }

    /// Logs out `jti` (its record exists): an active token is blacklisted, a
    /// used one too (its grace ends), and either revokes the family; only the
    /// active one is news.
    pub(super) fn log_out(&mut self, jti: &str, subject: u64, keep_until: u64) -> BlacklistOutcome {
        let Some(record) = self.get(jti) else {
            return BlacklistOutcome::AlreadyBlacklisted;
        };
        let family = record.family;
        let was_active = matches!(record.state, State::Active);
        let was_used = matches!(record.state, State::Used(_));
        if self.family_revoked(family) || !(was_active || was_used) {
            return BlacklistOutcome::AlreadyBlacklisted;
        }
        if let Some(record) = self.get_mut(jti) {
            // A used token's sealed successor goes with it.
            record.state = State::Blacklisted;
        }
        self.revoke_family(family, subject, keep_until);
        if was_active {
            BlacklistOutcome::Blacklisted
        } else {
            BlacklistOutcome::AlreadyBlacklisted
        }
    }

    /// Erases the sealed successors whose window ended at or before `now`.
    pub(super) fn erase_ended_windows(&mut self, now: u64) -> u64 {
        let open = self.windows.split_off(&now.saturating_add(1));
        let ended = std::mem::replace(&mut self.windows, open);
        let mut erased = 0;
        for key in ended.into_values().flatten() {
            let record = match &key {
                OwnedKey::Hex(key) => self.hex.get_mut(key),
                OwnedKey::Text(key) => self.text.get_mut(key),
            };
            if let Some(Record {
                state: State::Used(used),
                ..
            }) = record
            {
                if used
                    .sealed_successor
                    .as_ref()
                    .is_some_and(|(_, until)| *until <= now)
                {
                    used.sealed_successor = None;
                    erased += 1;
                }
            }
        }
        erased
    }

    /// Deletes the records and families kept until `now` or before, and
    /// erases the ended windows; returns how many token records went.
    pub(super) fn purge(&mut self, now: u64) -> u64 {
        let before = self.hex.len() + self.text.len();
        self.hex.retain(|_, record| record.keep_until > now);
        self.text.retain(|_, record| record.keep_until > now);
        self.families.retain(|_, family| family.keep_until > now);
        self.erase_ended_windows(now);
        self.hex.shrink_to_fit();
        self.text.shrink_to_fit();
        self.families.shrink_to_fit();
        (before - self.hex.len() - self.text.len()) as u64
    }
}
