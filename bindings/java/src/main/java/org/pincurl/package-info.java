/**
 * pincurl for Java and Android: pinned HTTPS requests on libcurl.
 *
 * <p>{@link org.pincurl.Policy} loads a policy document or builds one in code,
 * {@link org.pincurl.Client} sends {@link org.pincurl.Request}s on the calling thread and
 * returns {@link org.pincurl.Response}s or throws {@link org.pincurl.PincurlException} with
 * the {@link org.pincurl.Status} and the failure detail; a
 * {@link org.pincurl.ValidationListener} sees every validation. Policy, Client and Updater
 * are AutoCloseable.
 *
 * <p>Nullability: every parameter and return value is non-null unless annotated
 * {@code @Nullable} (javax.annotation, JSR 305: Kotlin reads it). The package runs on
 * Android API level 23 and later and on Java 8 and later. The other classes of this
 * package that are not public are the generated JNI bridge; they are not API.
 */
@ParametersAreNonnullByDefault
package org.pincurl;

import javax.annotation.ParametersAreNonnullByDefault;
