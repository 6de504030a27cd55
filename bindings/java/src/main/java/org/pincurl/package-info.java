/**
 * pincurl for Java: pinned HTTPS requests on libcurl.
 *
 * <p>{@link org.pincurl.Policy} loads a policy document, {@link org.pincurl.Client} sends
 * {@link org.pincurl.Request}s and returns {@link org.pincurl.Response}s or throws
 * {@link org.pincurl.PincurlException} with the {@link org.pincurl.Status} and the failure
 * detail; a {@link org.pincurl.ValidationListener} sees every validation. Policy and Client
 * are AutoCloseable. The other classes of this package that are not public are the
 * generated JNI bridge; they are not API.
 */
package org.pincurl;
