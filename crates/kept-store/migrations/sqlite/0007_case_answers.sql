-- A case's survey answers are read by case on every change to the case (the
-- rollups' refresh) and on its page; without this index each read scanned
-- every answer (found by `kept bench reads` at a million cases).
CREATE INDEX survey_responses_case_idx ON survey_responses (case_id);
