/*
 * chain.c: the phase runner.
 *
 * The chain's position (phase, handler index) lives in the request, so a
 * suspended request picks up exactly after the handler that suspended
 * it, whichever loop iteration resumes it. A resume that comes while the
 * handler is still on the stack (it finished its work at once) is taken
 * in the same run; one that comes later wakes the protocol side, which
 * runs the chain again from its event loop, so a module's callback never
 * has the rest of the chain and the upstream start on its stack.
 */
#include "chain.h"

#include "log.h"
#include "module.h"

/* The handler at r's position, or NULL once the request phases are
 * done (the position then rests past TE_PHASE_ROUTE). */
static const te_phase_slot *current(te_request *r)
{
    const te_chainconf *cc = r->cc;

    /* Bounded: the phase only grows, up to TE_PHASE_RESPONSE. */
    while (r->phase <= TE_PHASE_ROUTE && r->hidx >= cc->nslots[r->phase]) {
        r->phase++;
        r->hidx = 0;
    }
    if (r->phase > TE_PHASE_ROUTE)
        return NULL;
    return &cc->slots[r->phase][r->hidx];
}

/* A handler's TE_ERROR, or a TE_DONE without an answer: 500. */
static te_status fail_500(te_request *r, const te_phase_slot *s, te_status rc)
{
    if (rc == TE_DONE)
        te_request_log(r, TE_MLOG_ERROR,
                       "module %s returned done without answering", s->m->name);
    r->answered = 0;
    te_respond_error(r, 500, "internal error");
    return TE_DONE;
}

te_status te_chain_run(te_request *r)
{
    const te_phase_slot *s;
    te_status rc;

    r->in_chain = 1;
    r->running = 1;
    for (;;) {
        s = current(r);
        if (s == NULL) {
            rc = TE_OK;
            break;
        }
        if (r->suspended) {
            if (!r->resumed) {
                rc = TE_AGAIN; /* woken too early: still waiting */
                break;
            }
            r->suspended = 0;
            r->resumed = 0;
            rc = r->resume_rc;
        } else {
            rc = s->fn(r, s->conf);
            if (r->resumed) {
                /* resumed before it returned: its TE_AGAIN stands for
                 * the resume's result */
                r->resumed = 0;
                if (rc == TE_AGAIN)
                    rc = r->resume_rc;
            } else if (rc == TE_AGAIN) {
                r->suspended = 1;
                break;
            }
        }

        if (rc == TE_AGAIN) /* resumed with TE_AGAIN: misuse */
            rc = TE_ERROR;
        if (rc == TE_ERROR || (rc == TE_DONE && !r->answered)) {
            rc = fail_500(r, s, rc);
            break;
        }
        if (rc == TE_DONE || r->answered) {
            rc = TE_DONE;
            break;
        }
        r->hidx++; /* TE_OK, TE_DECLINED */
    }
    r->running = 0;
    return rc;
}

void te_request_resume(te_request *r, te_status rc)
{
    if (r->ended || (!r->suspended && !r->running) || r->resumed) {
        te_log(TE_LOG_ERROR, "module resumed a request that is not "
                             "suspended, ignored");
        return;
    }
    r->resume_rc = rc;
    r->resumed = 1;
    if (r->running)
        return; /* the handler is still on the stack: see te_chain_run */
    r->ops->wake(r->ops_ctx);
}

/* Handlers that cannot stop anything: every one runs, in chain order. */
static void run_all(te_request *r, unsigned phase)
{
    const te_chainconf *cc = r->cc;

    if (!r->in_chain || cc == NULL)
        return;
    for (unsigned i = 0; i < cc->nslots[phase]; i++) {
        const te_phase_slot *s = &cc->slots[phase][i];

        s->fn(r, s->conf);
    }
}

void te_chain_response(te_request *r)
{
    run_all(r, TE_PHASE_RESPONSE);
}

void te_chain_log(te_request *r)
{
    run_all(r, TE_PHASE_LOG);
}
