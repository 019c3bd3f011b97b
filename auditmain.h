/*
 * auditmain.h: kafkatee-pipe --audit, the loss audit of a file of events
 * (audit.h does the accounting).
 */
#ifndef KT_AUDITMAIN_H
#define KT_AUDITMAIN_H

/* Whether the command line asks for the audit (an --audit option). */
int audit_wanted(int argc, char **argv);

/* Runs it: the exit status (kafkatee-pipe(1), AUDIT). */
int audit_main(int argc, char **argv);

#endif /* KT_AUDITMAIN_H */
