/* Test-only JNI library: performs a request on a thread the JVM does not know, so that the
 * binding's callback glue has to attach that thread to the JVM and detach it again. */
#include <jni.h>
#include <pthread.h>
#include <stdint.h>

#include "pincurl/pincurl.h"

typedef struct job {
    pincurl_client *client;
    const pincurl_request *request;
    pincurl_status status;
} job;

static void *run(void *arg)
{
    job *j = arg;
    pincurl_response *resp = NULL;
    j->status = pincurl_client_perform(j->client, j->request, &resp);
    pincurl_response_free(resp);
    return NULL;
}

JNIEXPORT jint JNICALL Java_org_pincurl_NativeThread_perform(JNIEnv *env, jclass cls,
                                                             jlong client, jlong request);

/* The status of pincurl_client_perform(client, request) run on a new native thread, or -1
 * if the thread could not be started. */
JNIEXPORT jint JNICALL Java_org_pincurl_NativeThread_perform(JNIEnv *env, jclass cls,
                                                             jlong client, jlong request)
{
    (void)env;
    (void)cls;
    job j = { (pincurl_client *)(intptr_t)client, (const pincurl_request *)(intptr_t)request,
              PINCURL_INTERNAL };
    pthread_t tid;
    if (pthread_create(&tid, NULL, run, &j) != 0)
        return -1;
    pthread_join(tid, NULL);
    return (jint)j.status;
}
