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
import { createDocument } from '../features/documents/createDocument.ts';
import { listDocuments } from '../features/documents/listDocuments.ts';
import { getDocument } from '../features/documents/getDocument.ts';
import { updateDocument } from '../features/documents/updateDocument.ts';
import { deleteDocument } from '../features/documents/deleteDocument.ts';
import { listDataDocuments } from '../features/documents/listDataDocuments.ts';
import { getDataDocument } from '../features/documents/getDataDocument.ts';
import { listProfileDeliveries } from '../features/deliveries/listProfileDeliveries.ts';
import { listDeliveries } from '../features/deliveries/listDeliveries.ts';
import { replayDelivery } from '../features/deliveries/replayDelivery.ts';
import { setServiceWebhook } from '../features/deliveries/setServiceWebhook.ts';
import { getSsfConfiguration } from '../features/deliveries/getSsfConfiguration.ts';
import { getConsoleProfile } from '../features/console/getConsoleProfile.ts';
import { getConsoleSignIn } from '../features/console/getConsoleSignIn.ts';
import { getConsoleSignUp } from '../features/console/getConsoleSignUp.ts';
import { getConsoleVerifyEmail } from '../features/console/getConsoleVerifyEmail.ts';
import { getConsoleForgotPassword } from '../features/console/getConsoleForgotPassword.ts';
import { getConsoleResetPassword } from '../features/console/getConsoleResetPassword.ts';
import { getConsoleRings } from '../features/console/getConsoleRings.ts';
import { getConsoleVisibility } from '../features/console/getConsoleVisibility.ts';
import { getConsoleServices } from '../features/console/getConsoleServices.ts';
import { getConsoleActivity } from '../features/console/getConsoleActivity.ts';
import { getConsoleSessions } from '../features/console/getConsoleSessions.ts';
import { getConsoleAsset } from '../features/console/getConsoleAsset.ts';
import { getConsoleCredentials } from '../features/console/getConsoleCredentials.ts';
import { getConsoleHealth } from '../features/console/getConsoleHealth.ts';
import { getConsoleEmergency } from '../features/console/getConsoleEmergency.ts';
import { getConsoleShares } from '../features/console/getConsoleShares.ts';
import { getConsolePortable } from '../features/console/getConsolePortable.ts';
import { listProfileActivity } from '../features/activity/listProfileActivity.ts';
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
import { verifyAuditChain } from '../features/services/verifyAuditChain.ts';
import { listAuditCheckpoints } from '../features/services/listAuditCheckpoints.ts';
import { getActivityProof } from '../features/activity/getActivityProof.ts';
import { createEmergencyAccess } from '../features/emergency/createEmergencyAccess.ts';
import { getEmergencyAccess } from '../features/emergency/getEmergencyAccess.ts';
import { replaceEmergencyAccess } from '../features/emergency/replaceEmergencyAccess.ts';
import { deleteEmergencyAccess } from '../features/emergency/deleteEmergencyAccess.ts';
import { grantEmergencyAccess } from '../features/emergency/grantEmergencyAccess.ts';
import { openEmergencyAccess } from '../features/emergency/openEmergencyAccess.ts';
import { getEmergencyCard } from '../features/emergency/getEmergencyCard.ts';
import { rotateEmergencyCard } from '../features/emergency/rotateEmergencyCard.ts';
import { listEmergencyAccessLog } from '../features/emergency/listEmergencyAccessLog.ts';
import { endEmergencyAccess } from '../features/emergency/endEmergencyAccess.ts';
import { flagEmergencyAccess } from '../features/emergency/flagEmergencyAccess.ts';
import { declineTrustedContact } from '../features/emergency/declineTrustedContact.ts';
import { listResponders } from '../features/responders/listResponders.ts';
import { createResponder } from '../features/responders/createResponder.ts';
import { getResponder } from '../features/responders/getResponder.ts';
import { updateResponder } from '../features/responders/updateResponder.ts';
import { deleteResponder } from '../features/responders/deleteResponder.ts';

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
    verifyAuditChain,
    listAuditCheckpoints,
  },
  emergency: {
    createEmergencyAccess,
    getEmergencyAccess,
    replaceEmergencyAccess,
    deleteEmergencyAccess,
    grantEmergencyAccess,
    openEmergencyAccess,
    getEmergencyCard,
    rotateEmergencyCard,
    listEmergencyAccessLog,
    endEmergencyAccess,
    flagEmergencyAccess,
    declineTrustedContact,
  },
  responders: {
    listResponders,
    createResponder,
    getResponder,
    updateResponder,
    deleteResponder,
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
  console: {
    getConsoleProfile,
    getConsoleSignIn,
    getConsoleSignUp,
    getConsoleVerifyEmail,
    getConsoleForgotPassword,
    getConsoleResetPassword,
    getConsoleRings,
    getConsoleVisibility,
    getConsoleServices,
    getConsoleActivity,
    getConsoleSessions,
    getConsoleAsset,
    getConsoleCredentials,
    getConsoleHealth,
    getConsoleEmergency,
    getConsoleShares,
    getConsolePortable,
  },
  activity: {
    listProfileActivity,
    getActivityProof,
  },
  documents: {
    createDocument,
    listDocuments,
    getDocument,
    updateDocument,
    deleteDocument,
    listDataDocuments,
    getDataDocument,
  },
  deliveries: {
    listProfileDeliveries,
    listDeliveries,
    replayDelivery,
    setServiceWebhook,
    getSsfConfiguration,
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
