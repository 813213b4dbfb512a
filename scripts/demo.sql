-- Demo tasks for scripts/serve (never loaded into a TASKGATE_DSN database).
INSERT INTO tasks (task_id, backend, status, shots, submit_time, update_time, result, metadata) VALUES
('uqt_5f0c2a9e1b7d4c3a8e6f1a2b3c4d5e6f', 'originq:WK_C180', 'success', 1000,
 now() - interval '5 days', now() - interval '5 days' + interval '40 seconds',
 '{"counts": {"00": 498, "11": 502}, "probabilities": {"00": 0.498, "11": 0.502}}',
 '{"circuit": "bell", "qubits": 2}'),
('uqt_0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'dummy:local:simulator', 'running', 2048,
 now() - interval '2 hours', now() - interval '1 hour', NULL, '{"circuit": "ghz", "qubits": 5}'),
('uqt_9f8e7d6c5b4a39281706f5e4d3c2b1a0', 'quafu:ScQ-P10', 'failed', 500,
 now() - interval '4 days', now() - interval '4 days', NULL, '{"circuit": "qft"}'),
('uqt_1234567890abcdef1234567890abcdef', 'ibm:ibm_brisbane', 'pending', 4000,
 now() - interval '10 minutes', now() - interval '10 minutes', NULL, '{}'),
('uqt_fedcba0987654321fedcba0987654321', 'originq:WK_C180', 'cancelled', 100,
 now() - interval '6 days', now() - interval '6 days', NULL, '{"note": "user cancelled"}');
UPDATE tasks SET error_message = 'calibration expired' WHERE status = 'failed';
INSERT INTO task_shards (uniqc_task_id, shard_index, platform_task_id, backend, circuit_count, sub_index_offset, status, submit_time, update_time)
SELECT 'uqt_5f0c2a9e1b7d4c3a8e6f1a2b3c4d5e6f', i, 'OQ-' || (7000 + i), 'originq:WK_C180', 2, 2 * i, 'success',
       now() - interval '5 days', now() - interval '5 days' + interval '40 seconds'
FROM generate_series(0, 1) i;
INSERT INTO archived_tasks (task_id, backend, status, shots, submit_time, update_time, result, metadata, archived_at) VALUES
('uqt_aaaabbbbccccddddeeeeffff00001111', 'originq:WK_C180', 'success', 1000,
 now() - interval '30 days', now() - interval '30 days', '{"counts": {"0": 1000}}', '{}', now() - interval '20 days');
