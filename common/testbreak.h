/*
 * testbreak — a test-only build switch that breaks one guarantee, so that
 * `make check` can show the test meant to catch it fails.  A normal build
 * never defines SAC_TEST_BREAK and every SAC_BROKEN(...) is the constant 0.
 *
 *   make ... EXTRA_CFLAGS=-DSAC_TEST_BREAK=ack_before_commit
 *
 *   ack_before_commit  the controller acknowledges a batch, then stores it
 *   spool_no_fsync     the reader sends events it has not made durable
 *   redelivery_twice   the controller stores a redelivered event again
 *
 * Only tests/run builds these (under build/.../break/NAME), never an install.
 */
#ifndef SAC_COMMON_TESTBREAK_H
#define SAC_COMMON_TESTBREAK_H

#define SAC_BREAK_ack_before_commit 1
#define SAC_BREAK_spool_no_fsync 2
#define SAC_BREAK_redelivery_twice 3

#define SAC_BREAK_ID_(name) SAC_BREAK_##name
#define SAC_BREAK_ID(name) SAC_BREAK_ID_(name)

#ifdef SAC_TEST_BREAK
#define SAC_BROKEN(name) (SAC_BREAK_ID(SAC_TEST_BREAK) == SAC_BREAK_##name)
#else
#define SAC_BROKEN(name) 0
#endif

#endif
