-- What the last full re-read of each backup found: when it last proved
-- good (checksum, decryption, decompression, format), or when it was found
-- damaged and why. Retention never counts a damaged backup toward what it
-- keeps.
ALTER TABLE backups ADD COLUMN verified_at BIGINT;
ALTER TABLE backups ADD COLUMN damaged_at BIGINT;
ALTER TABLE backups ADD COLUMN verify_error TEXT;
