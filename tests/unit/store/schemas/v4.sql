-- A job database as the droccd of 484527b left it at schema version 4.
-- Written by tests/unit/store/schemas/make_fixture.sh; do not edit.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE jobs (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             uid INTEGER NOT NULL,
             gid INTEGER NOT NULL,
             user TEXT NOT NULL,
             project TEXT NOT NULL,
             state INTEGER NOT NULL,
             reason TEXT NOT NULL DEFAULT '',
             exit_code INTEGER,
             slurm_job_id INTEGER NOT NULL DEFAULT 0,
             nodes TEXT NOT NULL DEFAULT '',
             submit_time INTEGER,
             admit_time INTEGER,
             start_time INTEGER,
             end_time INTEGER,
             requeue_count INTEGER NOT NULL DEFAULT 0,
             idempotency_key TEXT NOT NULL DEFAULT '',
             name TEXT NOT NULL DEFAULT '',
             spec_json TEXT NOT NULL DEFAULT '{}', reserved_json TEXT NOT NULL DEFAULT '{}', charged_json TEXT NOT NULL DEFAULT '{}');
INSERT INTO jobs VALUES(1,1001,1001,'alice','ml-lab',1,'waiting for budget',NULL,0,'',1767225600000000,NULL,NULL,NULL,0,'k-pending','job-0','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":2,"labels":{"team":"ml-lab"},"mem_mb":16000,"name":"job-0","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"ml-lab","script":"#!/bin/bash\nsrun ./run --step 0\n","time_limit_s":3600,"workdir":"/home/alice"}','{}','{}');
INSERT INTO jobs VALUES(2,1001,1001,'alice','ml-lab',2,'waiting in Slurm''s queue',NULL,4001,'',1767225610000000,1767225611000000,NULL,NULL,0,'k-admitted','job-10','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":2,"labels":{"team":"ml-lab"},"mem_mb":16000,"name":"job-10","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"ml-lab","script":"#!/bin/bash\nsrun ./run --step 10\n","time_limit_s":3600,"workdir":"/home/alice"}','{"gpu-hours":2000}','{}');
INSERT INTO jobs VALUES(3,1001,1001,'alice','ml-lab',3,'running on gpu[01-02]',NULL,4002,'gpu[01-02]',1767225620000000,1767225621000000,1767225624000000,NULL,0,'','job-20','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":4,"labels":{"team":"ml-lab"},"mem_mb":16000,"name":"job-20","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"ml-lab","script":"#!/bin/bash\nsrun ./run --step 20\n","time_limit_s":3600,"workdir":"/home/alice"}','{"gpu-hours":4000}','{}');
INSERT INTO jobs VALUES(4,1002,1002,'bob','physics',4,'',0,4010,'n1',1767225700000000,1767225701000000,1767225702000000,1767225759000000,0,'k-ended-0','job-100','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"labels":{"team":"physics"},"mem_mb":16000,"name":"job-100","nodes":1,"ntasks_per_node":4,"partition":"cpu","project":"physics","script":"#!/bin/bash\nsrun ./run --step 100\n","time_limit_s":3600,"workdir":"/home/bob"}','{}','{"cpu-hours":1500}');
INSERT INTO jobs VALUES(5,1001,1001,'alice','ml-lab',5,'Slurm: FAILED',3,4011,'n1',1767225800000000,1767225801000000,1767225802000000,1767225859000000,0,'k-ended-1','job-200','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":1,"labels":{"team":"ml-lab"},"mem_mb":16000,"name":"job-200","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"ml-lab","script":"#!/bin/bash\nsrun ./run --step 200\n","time_limit_s":3600,"workdir":"/home/alice"}','{}','{"gpu-hours":250}');
INSERT INTO jobs VALUES(6,1002,1002,'bob','physics',6,'cancelled by bob',0,4012,'n1',1767225900000000,1767225901000000,1767225902000000,1767225959000000,0,'k-ended-2','job-300','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"labels":{"team":"physics"},"mem_mb":16000,"name":"job-300","nodes":1,"ntasks_per_node":4,"partition":"cpu","project":"physics","script":"#!/bin/bash\nsrun ./run --step 300\n","time_limit_s":3600,"workdir":"/home/bob"}','{}','{"cpu-hours":40}');
INSERT INTO jobs VALUES(7,1001,1001,'alice','ml-lab',7,'Slurm: TIMEOUT',0,4013,'n1',1767226000000000,1767226001000000,1767226002000000,1767226059000000,0,'k-ended-3','job-400','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":1,"labels":{"team":"ml-lab"},"mem_mb":16000,"name":"job-400","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"ml-lab","script":"#!/bin/bash\nsrun ./run --step 400\n","time_limit_s":3600,"workdir":"/home/alice"}','{}','{"gpu-hours":2000}');
INSERT INTO jobs VALUES(8,1002,1002,'bob','physics',6,'cancelled by bob before it was admitted',NULL,0,'',1767226100000000,NULL,NULL,1767226110000000,0,'k-cancelled','job-500','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"labels":{"team":"physics"},"mem_mb":16000,"name":"job-500","nodes":1,"ntasks_per_node":4,"partition":"cpu","project":"physics","script":"#!/bin/bash\nsrun ./run --step 500\n","time_limit_s":3600,"workdir":"/home/bob"}','{}','{}');
INSERT INTO jobs VALUES(9,1001,1001,'alice','ml-lab',8,'requeued by Slurm: BeginTime',NULL,4020,'',1767226200000000,1767226201000000,NULL,NULL,1,'k-requeued','job-600','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":1,"labels":{"team":"ml-lab"},"mem_mb":16000,"name":"job-600","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"ml-lab","script":"#!/bin/bash\nsrun ./run --step 600\n","time_limit_s":3600,"workdir":"/home/alice"}','{"gpu-hours":1000}','{"gpu-hours":250}');
INSERT INTO jobs VALUES(10,1002,1002,'bob','physics',9,'needs 8 GPUs per node; project physics may use at most 0',NULL,0,'',1767226300000000,NULL,NULL,1767226300000000,0,'k-rejected','job-700','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":8,"labels":{"team":"physics"},"mem_mb":16000,"name":"job-700","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"physics","script":"#!/bin/bash\nsrun ./run --step 700\n","time_limit_s":3600,"workdir":"/home/bob"}','{}','{}');
INSERT INTO jobs VALUES(11,1003,1003,'carol','sme-ai',10,'Slurm no longer knows job 4030: it ended while droccd was not watching, or slurmctld lost its state',NULL,4030,'n3',1767226400000000,1767226401000000,1767226402000000,1767228200000000,0,'k-lost','job-800','{"args":["--seed","7"],"environment":["OMP_NUM_THREADS=8"],"gpus_per_node":1,"labels":{"team":"sme-ai"},"mem_mb":16000,"name":"job-800","nodes":1,"ntasks_per_node":4,"partition":"gpu","project":"sme-ai","script":"#!/bin/bash\nsrun ./run --step 800\n","time_limit_s":3600,"workdir":"/home/carol"}','{}','{"gpu-hours":500}');
CREATE TABLE job_events (
             job_id INTEGER NOT NULL REFERENCES jobs(id),
             seq INTEGER NOT NULL,
             state INTEGER NOT NULL,
             time INTEGER,
             reason TEXT NOT NULL DEFAULT '',
             PRIMARY KEY (job_id, seq)) WITHOUT ROWID;
INSERT INTO job_events VALUES(1,1,1,1767225600000000,'queued');
INSERT INTO job_events VALUES(2,1,1,1767225610000000,'queued');
INSERT INTO job_events VALUES(2,2,2,1767225611000000,'handing to Slurm');
INSERT INTO job_events VALUES(3,1,1,1767225620000000,'queued');
INSERT INTO job_events VALUES(3,2,2,1767225621000000,'handing to Slurm');
INSERT INTO job_events VALUES(3,3,3,1767225625000000,'running on gpu[01-02]');
INSERT INTO job_events VALUES(4,1,1,1767225700000000,'queued');
INSERT INTO job_events VALUES(4,2,2,1767225701000000,'handing to Slurm');
INSERT INTO job_events VALUES(4,3,3,1767225703000000,'running on n1');
INSERT INTO job_events VALUES(4,4,4,1767225760000000,'');
INSERT INTO job_events VALUES(5,1,1,1767225800000000,'queued');
INSERT INTO job_events VALUES(5,2,2,1767225801000000,'handing to Slurm');
INSERT INTO job_events VALUES(5,3,3,1767225803000000,'running on n1');
INSERT INTO job_events VALUES(5,4,5,1767225860000000,'Slurm: FAILED');
INSERT INTO job_events VALUES(6,1,1,1767225900000000,'queued');
INSERT INTO job_events VALUES(6,2,2,1767225901000000,'handing to Slurm');
INSERT INTO job_events VALUES(6,3,3,1767225903000000,'running on n1');
INSERT INTO job_events VALUES(6,4,6,1767225960000000,'cancelled by bob');
INSERT INTO job_events VALUES(7,1,1,1767226000000000,'queued');
INSERT INTO job_events VALUES(7,2,2,1767226001000000,'handing to Slurm');
INSERT INTO job_events VALUES(7,3,3,1767226003000000,'running on n1');
INSERT INTO job_events VALUES(7,4,7,1767226060000000,'Slurm: TIMEOUT');
INSERT INTO job_events VALUES(8,1,1,1767226100000000,'queued');
INSERT INTO job_events VALUES(8,2,6,1767226110000000,'cancelled by bob before it was admitted');
INSERT INTO job_events VALUES(9,1,1,1767226200000000,'queued');
INSERT INTO job_events VALUES(9,2,2,1767226201000000,'handing to Slurm');
INSERT INTO job_events VALUES(9,3,3,1767226203000000,'running on n2');
INSERT INTO job_events VALUES(9,4,8,1767227102000000,'requeued by Slurm: BeginTime');
INSERT INTO job_events VALUES(10,1,9,1767226300000000,'needs 8 GPUs per node; project physics may use at most 0');
INSERT INTO job_events VALUES(11,1,1,1767226400000000,'queued');
INSERT INTO job_events VALUES(11,2,2,1767226401000000,'handing to Slurm');
INSERT INTO job_events VALUES(11,3,3,1767226403000000,'running on n3');
INSERT INTO job_events VALUES(11,4,10,1767228200000000,'Slurm no longer knows job 4030: it ended while droccd was not watching, or slurmctld lost its state');
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO settings VALUES('admission.drain','{"by":"dana","drained":true,"reason":"upgrade","time":1767229200}');
CREATE TABLE accounts (
             name TEXT PRIMARY KEY,
             kind INTEGER NOT NULL,
             description TEXT NOT NULL DEFAULT '',
             create_time INTEGER) WITHOUT ROWID;
INSERT INTO accounts VALUES('acme',2,'',NULL);
INSERT INTO accounts VALUES('ops',3,'',NULL);
INSERT INTO accounts VALUES('uni',1,'',NULL);
CREATE TABLE projects (
             name TEXT PRIMARY KEY,
             account TEXT NOT NULL REFERENCES accounts(name),
             share INTEGER NOT NULL DEFAULT 1,
             description TEXT NOT NULL DEFAULT '',
             create_time INTEGER) WITHOUT ROWID;
INSERT INTO projects VALUES('ml-lab','uni',2,'',NULL);
INSERT INTO projects VALUES('physics','uni',1,'',NULL);
INSERT INTO projects VALUES('sme-ai','acme',1,'',NULL);
CREATE TABLE members (
             project TEXT NOT NULL REFERENCES projects(name),
             user TEXT NOT NULL,
             role INTEGER NOT NULL,
             is_default INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (project, user)) WITHOUT ROWID;
INSERT INTO members VALUES('ml-lab','alice',2,1);
INSERT INTO members VALUES('physics','alice',1,0);
INSERT INTO members VALUES('physics','bob',1,1);
INSERT INTO members VALUES('sme-ai','carol',1,1);
CREATE TABLE grants (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             project TEXT NOT NULL REFERENCES projects(name),
             resource TEXT NOT NULL,
             amount_milli INTEGER NOT NULL,
             valid_from INTEGER,
             valid_until INTEGER,
             reference TEXT NOT NULL DEFAULT '');
INSERT INTO grants VALUES(1,'ml-lab','gpu-hours',100000,1764633600000000,1798761600000000,'ERC-1');
INSERT INTO grants VALUES(2,'physics','cpu-hours',5000000,NULL,NULL,'');
INSERT INTO grants VALUES(3,'ml-lab','gpu-hours',10000,1762041600000000,1767139200000000,'pilot');
CREATE TABLE limits (
             project TEXT NOT NULL REFERENCES projects(name),
             user TEXT NOT NULL,
             max_gpus INTEGER NOT NULL DEFAULT 0,
             max_cpus INTEGER NOT NULL DEFAULT 0,
             max_nodes INTEGER NOT NULL DEFAULT 0,
             max_pending_jobs INTEGER NOT NULL DEFAULT 0,
             max_walltime_s INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (project, user)) WITHOUT ROWID;
INSERT INTO limits VALUES('ml-lab','',16,0,0,100,0);
INSERT INTO limits VALUES('ml-lab','alice',0,0,0,0,86400);
CREATE TABLE charges (
             job_id INTEGER NOT NULL REFERENCES jobs(id),
             grant_id INTEGER NOT NULL,
             resource TEXT NOT NULL,
             milli INTEGER NOT NULL,
             project TEXT NOT NULL,
             user TEXT NOT NULL,
             time INTEGER);
INSERT INTO charges VALUES(4,2,'cpu-hours',1500,'physics','bob',1767225759000000);
INSERT INTO charges VALUES(5,1,'gpu-hours',250,'ml-lab','alice',1767225859000000);
INSERT INTO charges VALUES(6,2,'cpu-hours',40,'physics','bob',1767225959000000);
INSERT INTO charges VALUES(7,1,'gpu-hours',2000,'ml-lab','alice',1767226059000000);
INSERT INTO charges VALUES(9,1,'gpu-hours',250,'ml-lab','alice',1767227102000000);
INSERT INTO charges VALUES(11,0,'gpu-hours',500,'sme-ai','carol',1767228200000000);
CREATE TABLE audit (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             time INTEGER NOT NULL,
             user TEXT NOT NULL,
             peer TEXT NOT NULL,
             action TEXT NOT NULL,
             target TEXT NOT NULL,
             details TEXT NOT NULL,
             ok INTEGER NOT NULL);
INSERT INTO audit VALUES(1,1767222000000000,'dana','unix:uid=1004','Setup','uni, acme, ops','{}',1);
INSERT INTO audit VALUES(2,1767223800000000,'bob','unix:uid=1002','CreateGrant','project physics','{} -> PERMISSION_DENIED: not an admin',0);
CREATE TABLE checkpoints (
             job_id INTEGER NOT NULL REFERENCES jobs(id),
             seq INTEGER NOT NULL,
             step INTEGER NOT NULL,
             bytes INTEGER NOT NULL,
             duration_us INTEGER NOT NULL,
             time INTEGER NOT NULL,
             path TEXT NOT NULL,
             ranks INTEGER NOT NULL,
             PRIMARY KEY (job_id, seq)) WITHOUT ROWID;
INSERT INTO checkpoints VALUES(3,1,100,1048576,250000,1767225730000000,'/scratch/alice/ckpt-100',8);
INSERT INTO checkpoints VALUES(3,2,200,1048576,250000,1767225830000000,'/scratch/alice/ckpt-200',8);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('grants',3);
INSERT INTO sqlite_sequence VALUES('audit',2);
INSERT INTO sqlite_sequence VALUES('jobs',11);
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs (uid, idempotency_key)
                 WHERE idempotency_key <> '';
CREATE INDEX jobs_by_uid ON jobs (uid, id);
CREATE INDEX jobs_by_state ON jobs (state);
CREATE INDEX projects_by_account ON projects (account);
CREATE INDEX grants_by_project ON grants (project);
CREATE INDEX charges_by_project ON charges (project, time);
CREATE INDEX charges_by_grant ON charges (grant_id, project, resource);
CREATE INDEX charges_by_time ON charges (time);
CREATE INDEX audit_by_user ON audit (user, id);
CREATE INDEX jobs_by_project ON jobs (project, id);
COMMIT;
PRAGMA user_version = 4;
