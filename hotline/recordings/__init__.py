"""Call recordings (записи разговоров): post-processing, storage, integrity, retention.

`audio` holds pure functions (pydub analysis, ffmpeg encoding, checksums) run in worker
threads; `storage` the place the stored copies live; `worker` turns each finished call's WAV
into a stored, compressed, checksummed recording; `reconcile` finds what is missing or wrong;
`retention` destroys expired audio, auditing each destruction; `spools` says where each PBX's
monitor spool is (each file is read from the spool of its call's PBX).
"""
