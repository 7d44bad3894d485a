//! Hand-broken packages: one per rule.
