import type { Database } from 'better-sqlite3';
import { lateralityFromName } from './scope';

/**
 * Forward-only schema migrations. Migration `i` takes a workspace from `user_version = i` to `i + 1`;
 * each runs inside one transaction together with its `user_version` bump. Never edit a released
 * migration: append a new one.
 */
export type Migration = (db: Database) => void;

const V1 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Content-addressed files. location 'workspace' = blobs/ab/cdef…; 'external' = referenced in place.
CREATE TABLE blobs (
  sha256        TEXT PRIMARY KEY CHECK (length(sha256) = 64),
  size          INTEGER NOT NULL,
  location      TEXT NOT NULL CHECK (location IN ('workspace', 'external')),
  external_path TEXT,
  created_at    TEXT NOT NULL,
  CHECK ((location = 'external') = (external_path IS NOT NULL))
) STRICT;

CREATE TABLE patients (
  id          INTEGER PRIMARY KEY,
  patient_key TEXT NOT NULL UNIQUE,          -- patient ID + name: DICOM IDs are not unique across issuers
  patient_id  TEXT,
  patient_name TEXT,
  birth_date  TEXT,
  sex         TEXT
) STRICT;

CREATE TABLE studies (
  id               INTEGER PRIMARY KEY,
  patient_ref      INTEGER NOT NULL REFERENCES patients(id),
  study_uid        TEXT NOT NULL UNIQUE,
  study_date       TEXT,
  study_time       TEXT,
  description      TEXT,
  accession_number TEXT,
  institution      TEXT
) STRICT;
CREATE INDEX studies_patient ON studies(patient_ref);

CREATE TABLE series (
  id            INTEGER PRIMARY KEY,
  study_ref     INTEGER NOT NULL REFERENCES studies(id),
  series_uid    TEXT NOT NULL UNIQUE,
  modality      TEXT,
  series_number INTEGER,
  description   TEXT,
  body_part     TEXT
) STRICT;
CREATE INDEX series_study ON series(study_ref);

CREATE TABLE instances (
  id               INTEGER PRIMARY KEY,
  series_ref       INTEGER NOT NULL REFERENCES series(id),
  sop_instance_uid TEXT NOT NULL UNIQUE,
  sop_class_uid    TEXT,
  instance_number  INTEGER,
  transfer_syntax  TEXT,
  blob_sha256      TEXT NOT NULL REFERENCES blobs(sha256),
  source_path      TEXT NOT NULL,
  format           TEXT                       -- 'dicom' or the photo format (jpeg, png, …)
) STRICT;
CREATE INDEX instances_series ON instances(series_ref);
CREATE INDEX instances_blob ON instances(blob_sha256);

-- The unit that is labelled: one per instance (DICOM) or photo.
CREATE TABLE cases (
  id           INTEGER PRIMARY KEY,
  instance_ref INTEGER NOT NULL UNIQUE REFERENCES instances(id),
  kind         TEXT NOT NULL CHECK (kind IN ('dicom', 'photo')),
  display_name TEXT NOT NULL,
  blob_sha256  TEXT NOT NULL REFERENCES blobs(sha256),
  frame_count  INTEGER NOT NULL DEFAULT 1 CHECK (frame_count >= 1),
  rows         INTEGER,
  columns      INTEGER,
  split        TEXT NOT NULL CHECK (split IN ('train', 'val')),
  imported_at  TEXT NOT NULL,
  search_text  TEXT NOT NULL                  -- lower-cased names/IDs/dates for the worklist search
) STRICT;
CREATE INDEX cases_blob ON cases(blob_sha256);
CREATE INDEX cases_split ON cases(split);

CREATE TABLE tasks (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL CHECK (kind IN ('multiclass', 'ordinal', 'multilabel', 'segmentation')),
  classes     TEXT NOT NULL,                  -- JSON [{name, color, hotkey}]
  description TEXT,
  created_at  TEXT NOT NULL
) STRICT;

-- Append-only history; UPDATE/DELETE are refused by triggers below.
CREATE TABLE label_events (
  id                    INTEGER PRIMARY KEY,
  case_id               INTEGER NOT NULL REFERENCES cases(id),
  task_id               INTEGER NOT NULL REFERENCES tasks(id),
  value                 TEXT,                 -- JSON; NULL = label cleared
  value_text            TEXT,                 -- display form (class name, or names joined by ', ')
  author                TEXT NOT NULL,
  source                TEXT NOT NULL CHECK (source IN ('human', 'accepted-suggestion', 'import')),
  adapter_version_id    INTEGER REFERENCES adapter_versions(id),
  undo_of               INTEGER REFERENCES label_events(id),  -- set on events written by undo
  state_event_id        INTEGER REFERENCES label_events(id),  -- for undo events: the event whose state is restored
  prev_state_event_id   INTEGER REFERENCES label_events(id),  -- the state this event replaced (undo walks it)
  created_at            TEXT NOT NULL
) STRICT;
CREATE INDEX label_events_case_task ON label_events(case_id, task_id, id);
CREATE INDEX label_events_task ON label_events(task_id, id);

CREATE TRIGGER label_events_no_update BEFORE UPDATE ON label_events
BEGIN SELECT RAISE(ABORT, 'label_events is append-only'); END;
CREATE TRIGGER label_events_no_delete BEFORE DELETE ON label_events
BEGIN SELECT RAISE(ABORT, 'label_events is append-only'); END;

-- The current label per (task, case): a view of label_events materialised by trigger so the
-- worklist can filter 50,000 cases by it interactively.
CREATE TABLE current_labels (
  task_id    INTEGER NOT NULL REFERENCES tasks(id),
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  event_id   INTEGER NOT NULL REFERENCES label_events(id),
  value      TEXT NOT NULL,
  value_text TEXT,
  author     TEXT NOT NULL,
  source     TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (task_id, case_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX current_labels_case ON current_labels(case_id);

CREATE TRIGGER label_events_current_set AFTER INSERT ON label_events WHEN NEW.value IS NOT NULL
BEGIN
  INSERT INTO current_labels (task_id, case_id, event_id, value, value_text, author, source, updated_at)
  VALUES (NEW.task_id, NEW.case_id, NEW.id, NEW.value, NEW.value_text, NEW.author, NEW.source, NEW.created_at)
  ON CONFLICT (task_id, case_id) DO UPDATE SET
    event_id = excluded.event_id, value = excluded.value, value_text = excluded.value_text,
    author = excluded.author, source = excluded.source, updated_at = excluded.updated_at;
END;
CREATE TRIGGER label_events_current_clear AFTER INSERT ON label_events WHEN NEW.value IS NULL
BEGIN
  DELETE FROM current_labels WHERE task_id = NEW.task_id AND case_id = NEW.case_id;
END;

CREATE TABLE backbones (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  arch        TEXT NOT NULL,
  config      TEXT NOT NULL,                  -- JSON
  weights_sha256 TEXT REFERENCES blobs(sha256),
  created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE adapter_versions (
  id             INTEGER PRIMARY KEY,
  task_id        INTEGER NOT NULL REFERENCES tasks(id),
  backbone_id    INTEGER REFERENCES backbones(id),
  parent_id      INTEGER REFERENCES adapter_versions(id),
  method         TEXT NOT NULL,               -- 'dvpt' | 'ept' | 'linear' | …
  config         TEXT NOT NULL,               -- JSON
  weights_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
  metrics        TEXT NOT NULL DEFAULT '{}',  -- JSON
  label_snapshot TEXT NOT NULL DEFAULT '{}',  -- JSON: label count, last label event id, per-class counts
  status         TEXT NOT NULL CHECK (status IN ('active', 'candidate', 'archived')),
  train_run_id   INTEGER REFERENCES train_runs(id),
  note           TEXT,
  created_at     TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX adapter_versions_one_active ON adapter_versions(task_id) WHERE status = 'active';
CREATE INDEX adapter_versions_task ON adapter_versions(task_id, id);

-- Every promotion, so rollback can return to the version active before.
CREATE TABLE adapter_activations (
  id         INTEGER PRIMARY KEY,
  task_id    INTEGER NOT NULL REFERENCES tasks(id),
  version_id INTEGER NOT NULL REFERENCES adapter_versions(id),
  reason     TEXT NOT NULL,                   -- 'first' | 'promote' | 'rollback'
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX adapter_activations_task ON adapter_activations(task_id, id);

CREATE TABLE train_runs (
  id                INTEGER PRIMARY KEY,
  task_id           INTEGER NOT NULL REFERENCES tasks(id),
  status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  method            TEXT,
  backend           TEXT,
  config            TEXT NOT NULL DEFAULT '{}',
  parent_version_id INTEGER REFERENCES adapter_versions(id),
  result_version_id INTEGER REFERENCES adapter_versions(id),
  progress          TEXT NOT NULL DEFAULT '[]',  -- JSON array of progress entries, appended
  error             TEXT,
  queued_at         TEXT NOT NULL,
  started_at        TEXT,
  finished_at       TEXT
) STRICT;
CREATE INDEX train_runs_task ON train_runs(task_id, id);

CREATE TABLE predictions (
  id               INTEGER PRIMARY KEY,
  version_id       INTEGER NOT NULL REFERENCES adapter_versions(id),
  case_id          INTEGER NOT NULL REFERENCES cases(id),
  probabilities    TEXT NOT NULL,             -- JSON number[]
  predicted        TEXT,
  confidence       REAL,
  uncertainty      REAL,
  embedding_sha256 TEXT REFERENCES blobs(sha256),
  created_at       TEXT NOT NULL,
  UNIQUE (version_id, case_id)
) STRICT;
CREATE INDEX predictions_case ON predictions(case_id);
CREATE INDEX predictions_version_uncertainty ON predictions(version_id, uncertainty);

CREATE TABLE suggestions (
  id         INTEGER PRIMARY KEY,
  task_id    INTEGER NOT NULL REFERENCES tasks(id),
  version_id INTEGER REFERENCES adapter_versions(id),
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  strategy   TEXT NOT NULL,
  score      REAL NOT NULL,
  rank       INTEGER NOT NULL,
  reason     TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (task_id, case_id)
) STRICT;
CREATE INDEX suggestions_task_rank ON suggestions(task_id, rank);

-- Files that could not be imported (case_id NULL) or cases set aside later (case_id set).
CREATE TABLE quarantine (
  id          INTEGER PRIMARY KEY,
  source_path TEXT NOT NULL,
  sha256      TEXT,
  case_id     INTEGER REFERENCES cases(id),
  code        TEXT NOT NULL,
  reason      TEXT NOT NULL,
  created_at  TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX quarantine_file ON quarantine(source_path, ifnull(sha256, ''));
CREATE INDEX quarantine_case ON quarantine(case_id) WHERE case_id IS NOT NULL;
`;

/**
 * V2: skip and flag-for-review per (task, case), which until now lived only in the session. A row
 * exists only while a case carries a mark or a note; the partial indexes serve the worklist filters.
 */
const V2 = `
CREATE TABLE review_marks (
  task_id    INTEGER NOT NULL REFERENCES tasks(id),
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  flagged    INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
  skipped    INTEGER NOT NULL DEFAULT 0 CHECK (skipped IN (0, 1)),
  note       TEXT,
  author     TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (task_id, case_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX review_marks_case ON review_marks(case_id);
CREATE INDEX review_marks_flagged ON review_marks(task_id, case_id) WHERE flagged = 1;
CREATE INDEX review_marks_skipped ON review_marks(task_id, case_id) WHERE skipped = 1;
`;

/**
 * V3: per-task train / validation / test splits, assigned when a case is first labelled (stratified by
 * class, fixed once assigned) or by the user; and per-task settings (split fractions, the learning
 * loop). Cases labelled before keep the split they had (the import-time hash), so nothing moves.
 */
const V3 = `
CREATE TABLE task_splits (
  task_id     INTEGER NOT NULL REFERENCES tasks(id),
  case_id     INTEGER NOT NULL REFERENCES cases(id),
  split       TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
  source      TEXT NOT NULL CHECK (source IN ('auto', 'user', 'import')),
  stratum     TEXT,
  assigned_at TEXT NOT NULL,
  PRIMARY KEY (task_id, case_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX task_splits_split ON task_splits(task_id, split, stratum);
INSERT INTO task_splits (task_id, case_id, split, source, stratum, assigned_at)
  SELECT cl.task_id, cl.case_id, c.split, 'import', cl.value_text, cl.updated_at FROM current_labels cl JOIN cases c ON c.id = cl.case_id;
ALTER TABLE tasks ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
`;

/**
 * V4: every other path a case's file was imported under (a byte-identical copy, or the same SOP
 * Instance UID under another name), so a CSV or a search can name the case by any of them.
 */
const V4 = `
CREATE TABLE case_aliases (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES cases(id),
  source_path TEXT NOT NULL,                  -- as imported: a path, or archive.zip!/entry
  base_name   TEXT NOT NULL,                  -- its file name, for lookups by name
  sha256      TEXT NOT NULL,                  -- the bytes seen under this path (may differ for a SOP duplicate)
  imported_at TEXT NOT NULL,
  UNIQUE (case_id, source_path)
) STRICT;
CREATE INDEX case_aliases_path ON case_aliases(source_path);
CREATE INDEX case_aliases_name ON case_aliases(base_name);
`;

/**
 * V5: runs outlive the process that queued them. Each queued or running run names its owner (PID and
 * host) and carries a heartbeat the owner refreshes, so another process can tell a live run from an
 * orphan; `live` is the owner's latest progress (JSON: phase, fraction, epoch, metric, message), written
 * at most about once a second, which other processes read to show the run.
 */
const V5 = `
ALTER TABLE train_runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE train_runs ADD COLUMN owner_host TEXT;
ALTER TABLE train_runs ADD COLUMN heartbeat_at TEXT;
ALTER TABLE train_runs ADD COLUMN live TEXT;
CREATE INDEX train_runs_unfinished ON train_runs(id) WHERE status IN ('queued', 'running');
`;

/**
 * V6: the reader's measurements per case (length, angle, ellipse and rectangle ROIs). Only the points
 * are stored, in image pixel coordinates of one frame; lengths, areas and statistics are recomputed from the
 * pixels and the spacing, so they can never disagree with the image.
 */
const V6 = `
CREATE TABLE measurements (
  id         INTEGER PRIMARY KEY,
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  frame      INTEGER NOT NULL DEFAULT 0 CHECK (frame >= 0),
  kind       TEXT NOT NULL CHECK (kind IN ('length', 'angle', 'ellipse', 'rectangle')),
  points     TEXT NOT NULL,                   -- JSON [[x, y], …] in image pixels
  author     TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX measurements_case ON measurements(case_id, id);
`;

/**
 * V7: PACS connections (issue 19): one row per named connection. `config` is JSON validated by core/pacs;
 * it holds secret *references* (an environment variable name, or protector ciphertext), never a password.
 */
const V7 = `
CREATE TABLE pacs_connections (
  name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
  config     TEXT NOT NULL CHECK (json_valid(config)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
`;

/**
 * V8: the per-case facts a task scope selects on (see scope.ts). colour: 1 when the decoded image has three
 * samples (photos in colour, DICOM RGB/YBR/palette), 0 greyscale, NULL unknown; laterality from DICOM
 * (Image) Laterality or a photo's file name, NULL unknown. Cases imported before keep what can be known
 * without reading their files again: photos count as colour and take the laterality their name states.
 */
const V8 = `
ALTER TABLE cases ADD COLUMN colour INTEGER CHECK (colour IN (0, 1));
ALTER TABLE cases ADD COLUMN laterality TEXT CHECK (laterality IN ('left', 'right', 'both'));
UPDATE cases SET colour = 1 WHERE kind = 'photo';
`;

function v8(db: Parameters<Migration>[0]): void {
  db.exec(V8);
  const set = db.prepare('UPDATE cases SET laterality = ? WHERE id = ?');
  for (const row of db.prepare(`SELECT id, display_name AS name FROM cases WHERE kind = 'photo'`).all() as { id: number; name: string }[]) {
    const side = lateralityFromName(row.name);
    if (side) set.run(side, row.id);
  }
}

/**
 * V9: free-text notes per case by any reader, with author and time; a comment is deleted
 * (by its author) rather than edited, so what was said stays what was said.
 */
const V9 = `
CREATE TABLE case_comments (
  id         INTEGER PRIMARY KEY,
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  author     TEXT NOT NULL,
  body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX case_comments_case ON case_comments(case_id, id);
`;

/**
 * V10 (issue 18, several readers): reader profiles; the independent reads of tasks read k > 1 times
 * (append-only, one first and at most one blind repeat read per reader and case); the cases chosen for
 * a repeat read; each case's review state with its full history. Label events gain `consensus`: an
 * event that writes the agreed or adjudicated label of such a task, shown as that source in
 * current_labels, which is what training reads (docs/readers.md).
 */
const V10 = `
CREATE TABLE readers (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
  role       TEXT NOT NULL CHECK (role IN ('reader', 'reviewer', 'admin')),
  pin_hash   TEXT,                            -- scrypt$<salt hex>$<key hex>; NULL = no PIN
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE read_events (
  id         INTEGER PRIMARY KEY,
  task_id    INTEGER NOT NULL REFERENCES tasks(id),
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  reader     TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('first', 'repeat')),
  value      TEXT NOT NULL,                   -- JSON, as label_events.value
  value_text TEXT,
  created_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX read_events_once ON read_events(task_id, case_id, reader, kind);
CREATE INDEX read_events_reader ON read_events(task_id, reader, kind);
CREATE TRIGGER read_events_no_update BEFORE UPDATE ON read_events
BEGIN SELECT RAISE(ABORT, 'read_events is append-only'); END;
CREATE TRIGGER read_events_no_delete BEFORE DELETE ON read_events
BEGIN SELECT RAISE(ABORT, 'read_events is append-only'); END;

CREATE TABLE read_repeats (
  task_id      INTEGER NOT NULL REFERENCES tasks(id),
  case_id      INTEGER NOT NULL REFERENCES cases(id),
  reader       TEXT NOT NULL,
  scheduled_at TEXT NOT NULL,
  PRIMARY KEY (task_id, case_id, reader)
) STRICT, WITHOUT ROWID;

CREATE TABLE case_states (
  task_id    INTEGER NOT NULL REFERENCES tasks(id),
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  state      TEXT NOT NULL CHECK (state IN ('read', 'agreed', 'disagreement', 'adjudicated', 'accepted', 'rejected')),
  updated_at TEXT NOT NULL,
  PRIMARY KEY (task_id, case_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX case_states_state ON case_states(task_id, state);

CREATE TABLE case_state_history (
  id         INTEGER PRIMARY KEY,
  task_id    INTEGER NOT NULL REFERENCES tasks(id),
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  from_state TEXT NOT NULL,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  note       TEXT,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX case_state_history_case ON case_state_history(task_id, case_id, id);
CREATE TRIGGER case_state_history_no_update BEFORE UPDATE ON case_state_history
BEGIN SELECT RAISE(ABORT, 'case_state_history is append-only'); END;
CREATE TRIGGER case_state_history_no_delete BEFORE DELETE ON case_state_history
BEGIN SELECT RAISE(ABORT, 'case_state_history is append-only'); END;

ALTER TABLE label_events ADD COLUMN consensus TEXT CHECK (consensus IN ('agreed', 'adjudicated'));
DROP TRIGGER label_events_current_set;
CREATE TRIGGER label_events_current_set AFTER INSERT ON label_events WHEN NEW.value IS NOT NULL
BEGIN
  INSERT INTO current_labels (task_id, case_id, event_id, value, value_text, author, source, updated_at)
  VALUES (NEW.task_id, NEW.case_id, NEW.id, NEW.value, NEW.value_text, NEW.author,
    CASE NEW.consensus WHEN 'agreed' THEN 'consensus' WHEN 'adjudicated' THEN 'adjudicated' ELSE NEW.source END, NEW.created_at)
  ON CONFLICT (task_id, case_id) DO UPDATE SET
    event_id = excluded.event_id, value = excluded.value, value_text = excluded.value_text,
    author = excluded.author, source = excluded.source, updated_at = excluded.updated_at;
END;
`;

/**
 * V11: segmentation masks (issue 16) as an append-only event log per (task, case, frame), like labels:
 * each event holds the whole mask at image resolution, zlib-deflated (one byte per pixel: 0 background,
 * i = the task's class i), with who, when, the source and the adapter version of an accepted prediction.
 * `current_masks` points at each frame's latest event, kept in step by a trigger. `predicted_masks` holds an
 * adapter version's predicted mask per (case, frame), the same encoding, with its uncertainty (mean pixel
 * entropy over the predicted foreground and its border); replaced when the version predicts again.
 */
const V11 = `
CREATE TABLE mask_events (
  id                 INTEGER PRIMARY KEY,
  task_id            INTEGER NOT NULL REFERENCES tasks(id),
  case_id            INTEGER NOT NULL REFERENCES cases(id),
  frame              INTEGER NOT NULL DEFAULT 0 CHECK (frame >= 0),
  rows               INTEGER NOT NULL CHECK (rows > 0),
  columns            INTEGER NOT NULL CHECK (columns > 0),
  encoding           TEXT NOT NULL CHECK (encoding IN ('deflate-u8')),
  data               BLOB NOT NULL,
  sha256             TEXT NOT NULL CHECK (length(sha256) = 64),  -- of the uncompressed label plane
  foreground         INTEGER NOT NULL CHECK (foreground >= 0),   -- pixels not background
  author             TEXT NOT NULL,
  source             TEXT NOT NULL CHECK (source IN ('human', 'accepted-prediction', 'edited-prediction', 'import')),
  adapter_version_id INTEGER REFERENCES adapter_versions(id),
  created_at         TEXT NOT NULL,
  CHECK ((source IN ('accepted-prediction', 'edited-prediction')) = (adapter_version_id IS NOT NULL))
) STRICT;
CREATE INDEX mask_events_target ON mask_events(task_id, case_id, frame, id);
CREATE TRIGGER mask_events_no_update BEFORE UPDATE ON mask_events
BEGIN SELECT RAISE(ABORT, 'mask_events is append-only'); END;
CREATE TRIGGER mask_events_no_delete BEFORE DELETE ON mask_events
BEGIN SELECT RAISE(ABORT, 'mask_events is append-only'); END;
CREATE TABLE current_masks (
  task_id  INTEGER NOT NULL REFERENCES tasks(id),
  case_id  INTEGER NOT NULL REFERENCES cases(id),
  frame    INTEGER NOT NULL,
  event_id INTEGER NOT NULL REFERENCES mask_events(id),
  PRIMARY KEY (task_id, case_id, frame)
) STRICT, WITHOUT ROWID;
CREATE INDEX current_masks_case ON current_masks(case_id);
CREATE TRIGGER mask_events_current AFTER INSERT ON mask_events
BEGIN
  INSERT INTO current_masks (task_id, case_id, frame, event_id) VALUES (NEW.task_id, NEW.case_id, NEW.frame, NEW.id)
  ON CONFLICT (task_id, case_id, frame) DO UPDATE SET event_id = excluded.event_id;
END;
CREATE TABLE predicted_masks (
  version_id  INTEGER NOT NULL REFERENCES adapter_versions(id),
  case_id     INTEGER NOT NULL REFERENCES cases(id),
  frame       INTEGER NOT NULL CHECK (frame >= 0),
  rows        INTEGER NOT NULL CHECK (rows > 0),
  columns     INTEGER NOT NULL CHECK (columns > 0),
  encoding    TEXT NOT NULL CHECK (encoding IN ('deflate-u8')),
  data        BLOB NOT NULL,
  foreground  INTEGER NOT NULL CHECK (foreground >= 0),
  uncertainty REAL NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (version_id, case_id, frame)
) STRICT, WITHOUT ROWID;
CREATE INDEX predicted_masks_case ON predicted_masks(case_id);
`;

/**
 * V12: where retrieved cases came from (core/store/pacs-origins.ts): the PACS connection's name (kept
 * when the connection is removed, as history), the study and the series.
 */
const V12 = `
CREATE TABLE pacs_origins (
  case_id      INTEGER PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
  connection   TEXT NOT NULL,
  study_uid    TEXT NOT NULL,
  series_uid   TEXT NOT NULL,
  retrieved_at TEXT NOT NULL
) STRICT;
CREATE INDEX pacs_origins_connection ON pacs_origins(connection);
`;

/**
 * V13: wrong PINs in a row per reader profile and the time its lockout ends (core/store/readers.ts
 * attemptPin): a 4-digit PIN is only a lock when guessing it takes days, and a restart must not reset it.
 */
const V13 = `
ALTER TABLE readers ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0 CHECK (pin_failures >= 0);
ALTER TABLE readers ADD COLUMN pin_locked_until TEXT;
`;

export const MIGRATIONS: readonly Migration[] = [
  ...[V1, V2, V3, V4, V5, V6, V7].map((sql) => (db: Parameters<Migration>[0]) => db.exec(sql)),
  v8,
  (db) => db.exec(V9),
  (db) => db.exec(V10),
  (db) => db.exec(V11),
  (db) => db.exec(V12),
  (db) => db.exec(V13),
];

/** The schema version this build of MedTune writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
