-- Scoring profiles (docs/scoring.md, "Profiles and overrides"): a profile names its active version; versions are
-- immutable, so every stored score (profile_id, profile_version) can be reproduced.
CREATE TABLE scoring_profiles (
    profile_id text PRIMARY KEY CHECK (profile_id ~ '^[a-z0-9-]{1,64}$'),
    active_version integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- A deleted profile stops scoring; its versions stay, for the scores they produced.
    deleted_at timestamptz
);

CREATE TABLE scoring_profile_versions (
    profile_id text NOT NULL REFERENCES scoring_profiles (profile_id),
    version integer NOT NULL CHECK (version >= 1),
    -- The whole profile but its id and version, defaults filled in, weights as exact decimal strings.
    document jsonb NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (profile_id, version)
);

-- Checked at commit: a new profile's row and its first version are written in one transaction.
ALTER TABLE scoring_profiles
    ADD CONSTRAINT scoring_profiles_active_version_fkey FOREIGN KEY (profile_id, active_version)
    REFERENCES scoring_profile_versions (profile_id, version) DEFERRABLE INITIALLY DEFERRED;
