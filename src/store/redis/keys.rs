//! The keys of one subject's records.

/// The key prefix of `subject`'s records under `namespace`, hash tag
/// included: `<namespace>:{<subject>}:`, so that every key of one subject
/// hashes to one slot on Redis Cluster.
///
/// An empty tag (`{}`) would make Redis Cluster hash each whole key, so the
/// empty subject gets the tag `{_}` followed by `_` (`<namespace>:{_}_:`):
/// no other subject's prefix ends that way (theirs end in `}:`), so its
/// keys never meet another subject's.
pub(super) fn prefix(namespace: &str, subject: &str) -> String {
    if subject.is_empty() {
        format!("{namespace}:{{_}}_:")
    } else {
        format!("{namespace}:{{{subject}}}:")
    }
}

/// The part of `key` Redis Cluster hashes: the text between the first `{`
/// and the next `}` when it is not empty, else the whole key.
#[cfg(test)]
pub(super) fn hash_tag(key: &str) -> &str {
    key.find('{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.find('}').map(|close| &rest[..close])
        })
        .filter(|tag| !tag.is_empty())
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_subject_shares_a_non_empty_hash_tag() {
        for subject in ["42", "", "_", "a:b", "user@example.com"] {
            let prefix = prefix("simplejwt", subject);
            let keys =
                ["t:j1", "fam:j1", "families", "s:j1", "all"].map(|kind| format!("{prefix}{kind}"));
            let tag = hash_tag(&keys[0]);
            assert!(
                !keys[0].ends_with(tag),
                "{subject:?}: a tag, not the whole key"
            );
            for key in &keys {
                assert_eq!(hash_tag(key), tag, "{key}");
            }
        }
        assert_ne!(prefix("simplejwt", ""), prefix("simplejwt", "_"));
        assert_eq!(hash_tag("simplejwt:{}:t:j1"), "simplejwt:{}:t:j1");
    }
}
