-- doc-delete: removes a job document and its index entries.
-- KEYS[1] the job hash. ARGV: 1 index prefix, 2 uuid.
-- Result: 1 when there was a document, 0 otherwise.
-- Atomic: a listing never sees an index entry whose document is gone.
-- uses: docs
if zg_doc_remove(KEYS[1], ARGV[1], ARGV[2]) then return 1 end
return 0
