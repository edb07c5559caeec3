-- The exact document each proposal was made against, so an applied change can be rolled back.
ALTER TABLE proposals ADD COLUMN base_document TEXT;
