/**
 * Every operationId in openapi.yaml and its handler, by the feature folder the handler lives in: the router refuses
 * to start when the spec and this map disagree — an operation without a handler, a handler without an operation, or
 * an operation whose first tag is not its handler's folder (so the spec's tags are the folders a reader opens).
 */
import type { Handler } from '../deps.ts';
import { getHealth } from '../features/platform/getHealth.ts';
import { getReadiness } from '../features/platform/getReadiness.ts';
import { getOpenApiDocument } from '../features/platform/getOpenApiDocument.ts';
import { getApiReference } from '../features/platform/getApiReference.ts';
import { getApiReferenceAsset } from '../features/platform/getApiReferenceAsset.ts';
import { registerUser } from '../features/accounts/registerUser.ts';
import { loginUser } from '../features/accounts/loginUser.ts';
import { refreshSession } from '../features/accounts/refreshSession.ts';
import { verifySession } from '../features/accounts/verifySession.ts';
import { logout } from '../features/accounts/logout.ts';
import { logoutAll } from '../features/accounts/logoutAll.ts';
import { getCurrentUser } from '../features/accounts/getCurrentUser.ts';
import { verifyEmail } from '../features/accounts/verifyEmail.ts';
import { resendVerificationEmail } from '../features/accounts/resendVerificationEmail.ts';
import { forgotPassword } from '../features/accounts/forgotPassword.ts';
import { resetPassword } from '../features/accounts/resetPassword.ts';
import { changePassword } from '../features/accounts/changePassword.ts';
import { getProfile } from '../features/profile/getProfile.ts';
import { updateProfileInfo } from '../features/profile/updateProfileInfo.ts';
import { uploadAvatar } from '../features/profile/uploadAvatar.ts';
import { deleteAvatar } from '../features/profile/deleteAvatar.ts';
import { getAvatar } from '../features/profile/getAvatar.ts';
import { listPublicProfiles } from '../features/profile/listPublicProfiles.ts';
import { getPublicProfile } from '../features/profile/getPublicProfile.ts';
import { listPublicStatuses } from '../features/profile/listPublicStatuses.ts';
import { createStatus } from '../features/profile/createStatus.ts';
import { listStatuses } from '../features/profile/listStatuses.ts';
import { updateStatus } from '../features/profile/updateStatus.ts';
import { deleteStatus } from '../features/profile/deleteStatus.ts';
import { createPrivilegeRing } from '../features/rings/createPrivilegeRing.ts';
import { listPrivilegeRings } from '../features/rings/listPrivilegeRings.ts';
import { getRingPolicy } from '../features/rings/getRingPolicy.ts';
import { replaceRingPolicy } from '../features/rings/replaceRingPolicy.ts';
import { getPrivilegeRing } from '../features/rings/getPrivilegeRing.ts';
import { updatePrivilegeRing } from '../features/rings/updatePrivilegeRing.ts';
import { deletePrivilegeRing } from '../features/rings/deletePrivilegeRing.ts';
import { getVisibility } from '../features/rings/getVisibility.ts';
import { showInteraction } from '../features/consent/showInteraction.ts';
import { submitInteractionLogin } from '../features/consent/submitInteractionLogin.ts';
import { submitInteractionConsent } from '../features/consent/submitInteractionConsent.ts';
import { abortInteraction } from '../features/consent/abortInteraction.ts';
import { submitInteractionPasskey } from '../features/consent/submitInteractionPasskey.ts';
import { getDataProfile } from '../features/data/getDataProfile.ts';
import { getProtectedResourceMetadata } from '../features/data/getProtectedResourceMetadata.ts';
import { getDataService } from '../features/data/getDataService.ts';
import { listProfileAccess } from '../features/access/listProfileAccess.ts';
import { revokeProfileAccess } from '../features/access/revokeProfileAccess.ts';
import { listServices } from '../features/services/listServices.ts';
import { createService } from '../features/services/createService.ts';
import { getService } from '../features/services/getService.ts';
import { listCredentialTypes } from '../features/credentials/listCredentialTypes.ts';
import { addCredential } from '../features/credentials/addCredential.ts';
import { listCredentials } from '../features/credentials/listCredentials.ts';
import { getCredential } from '../features/credentials/getCredential.ts';
import { getCredentialImage } from '../features/credentials/getCredentialImage.ts';
import { deleteCredential } from '../features/credentials/deleteCredential.ts';
import { confirmCredential } from '../features/credentials/confirmCredential.ts';
import { rejectCredential } from '../features/credentials/rejectCredential.ts';
import { disableService } from '../features/services/disableService.ts';
import { listHealthRecords } from '../features/health/listHealthRecords.ts';
import { createHealthRecord } from '../features/health/createHealthRecord.ts';
import { exportHealthRecords } from '../features/health/exportHealthRecords.ts';
import { importHealthRecords } from '../features/health/importHealthRecords.ts';
import { getHealthRecord } from '../features/health/getHealthRecord.ts';
import { updateHealthRecord } from '../features/health/updateHealthRecord.ts';
import { deleteHealthRecord } from '../features/health/deleteHealthRecord.ts';
import { createHealthLink } from '../features/health/createHealthLink.ts';
import { listHealthLinks } from '../features/health/listHealthLinks.ts';
import { revokeHealthLink } from '../features/health/revokeHealthLink.ts';
import { showHealthLinkPage } from '../features/health/showHealthLinkPage.ts';
import { getHealthLinkAsset } from '../features/health/getHealthLinkAsset.ts';
import { requestHealthLinkCode } from '../features/health/requestHealthLinkCode.ts';
import { openHealthLink } from '../features/health/openHealthLink.ts';
import { createShare } from '../features/shares/createShare.ts';
import { listShares } from '../features/shares/listShares.ts';
import { revokeShare } from '../features/shares/revokeShare.ts';
import { verifyShareToken } from '../features/shares/verifyShareToken.ts';
import { getJwtVcIssuerMetadata } from '../features/shares/getJwtVcIssuerMetadata.ts';
import { getIssuerJwks } from '../features/shares/getIssuerJwks.ts';
import { getStatusList } from '../features/shares/getStatusList.ts';
import { createDataRequest } from '../features/shares/createDataRequest.ts';
import { getDataRequest } from '../features/shares/getDataRequest.ts';
import { listProfileRequests } from '../features/shares/listProfileRequests.ts';
import { approveProfileRequest } from '../features/shares/approveProfileRequest.ts';
import { declineProfileRequest } from '../features/shares/declineProfileRequest.ts';
import { showPasskeysPage } from '../features/passkeys/showPasskeysPage.ts';
import { getPasskeysAsset } from '../features/passkeys/getPasskeysAsset.ts';
import { createPasskeyRegistrationOptions } from '../features/passkeys/createPasskeyRegistrationOptions.ts';
import { registerPasskey } from '../features/passkeys/registerPasskey.ts';
import { listPasskeys } from '../features/passkeys/listPasskeys.ts';
import { renamePasskey } from '../features/passkeys/renamePasskey.ts';
import { deletePasskey } from '../features/passkeys/deletePasskey.ts';
import { createPasskeyLoginOptions } from '../features/passkeys/createPasskeyLoginOptions.ts';
import { loginWithPasskey } from '../features/passkeys/loginWithPasskey.ts';
import { createKeyChallenge } from '../features/passkeys/createKeyChallenge.ts';
import { loginWithKey } from '../features/passkeys/loginWithKey.ts';
import { stepUpSession } from '../features/passkeys/stepUpSession.ts';
import { replacePublicKey } from '../features/passkeys/replacePublicKey.ts';
import { listSessions } from '../features/passkeys/listSessions.ts';
import { endSession } from '../features/passkeys/endSession.ts';
import { exportProfile } from '../features/portable/exportProfile.ts';
import { exportProfileWithPassphrase } from '../features/portable/exportProfileWithPassphrase.ts';
import { importProfile } from '../features/portable/importProfile.ts';

/** The handlers of each feature folder (src/features/<folder>/<operationId>.ts). */
export const FEATURES = {
  platform: {
    getHealth,
    getReadiness,
    getOpenApiDocument,
    getApiReference,
    getApiReferenceAsset,
  },
  accounts: {
    registerUser,
    loginUser,
    refreshSession,
    verifySession,
    logout,
    logoutAll,
    getCurrentUser,
    verifyEmail,
    resendVerificationEmail,
    forgotPassword,
    resetPassword,
    changePassword,
  },
  profile: {
    getProfile,
    updateProfileInfo,
    uploadAvatar,
    deleteAvatar,
    getAvatar,
    listPublicProfiles,
    getPublicProfile,
    listPublicStatuses,
    createStatus,
    listStatuses,
    updateStatus,
    deleteStatus,
  },
  rings: {
    createPrivilegeRing,
    listPrivilegeRings,
    getRingPolicy,
    replaceRingPolicy,
    getPrivilegeRing,
    updatePrivilegeRing,
    deletePrivilegeRing,
    getVisibility,
  },
  consent: {
    showInteraction,
    submitInteractionLogin,
    submitInteractionConsent,
    abortInteraction,
    submitInteractionPasskey,
  },
  data: {
    getDataProfile,
    getProtectedResourceMetadata,
    getDataService,
  },
  access: {
    listProfileAccess,
    revokeProfileAccess,
  },
  services: {
    listServices,
    createService,
    getService,
    disableService,
  },
  health: {
    listHealthRecords,
    createHealthRecord,
    exportHealthRecords,
    importHealthRecords,
    getHealthRecord,
    updateHealthRecord,
    deleteHealthRecord,
    createHealthLink,
    listHealthLinks,
    revokeHealthLink,
    showHealthLinkPage,
    getHealthLinkAsset,
    requestHealthLinkCode,
    openHealthLink,
  },
  shares: {
    createShare,
    listShares,
    revokeShare,
    verifyShareToken,
    getJwtVcIssuerMetadata,
    getIssuerJwks,
    getStatusList,
    createDataRequest,
    getDataRequest,
    listProfileRequests,
    approveProfileRequest,
    declineProfileRequest,
  },
  credentials: {
    listCredentialTypes,
    addCredential,
    listCredentials,
    getCredential,
    getCredentialImage,
    deleteCredential,
    confirmCredential,
    rejectCredential,
  },
  passkeys: {
    showPasskeysPage,
    getPasskeysAsset,
    createPasskeyRegistrationOptions,
    registerPasskey,
    listPasskeys,
    renamePasskey,
    deletePasskey,
    createPasskeyLoginOptions,
    loginWithPasskey,
    createKeyChallenge,
    loginWithKey,
    stepUpSession,
    replacePublicKey,
    listSessions,
    endSession,
  },
  portable: {
    exportProfile,
    exportProfileWithPassphrase,
    importProfile,
  },
} as const satisfies Record<string, Record<string, Handler>>;

/** operationId → handler. */
export const HANDLERS: Readonly<Record<string, Handler>> = Object.assign({}, ...Object.values(FEATURES));

/** operationId → the feature folder its handler lives in, which the operation's first tag must name. */
export const FOLDERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(FEATURES).flatMap(([folder, handlers]) => Object.keys(handlers).map((id) => [id, folder])),
);
