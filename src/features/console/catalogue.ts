/**
 * The console's one message catalogue: a section per page (plus `common` and `nav`), each message in English,
 * Simplified and Traditional Chinese. The server renders a page's static text from it and hands the page's script
 * the same messages (of the chosen language only), so no text lives in the scripts. A new page adds its section
 * here; test/console/catalogue.test.ts checks every language has every message.
 */

export const LOCALES = ['en', 'zh-Hans', 'zh-Hant'] as const;
export type Locale = (typeof LOCALES)[number];

type Section = Record<string, readonly [en: string, zhHans: string, zhHant: string]>;

const CATALOGUE: Record<string, Section> = {
  common: {
    brand: ['Ringfence', 'Ringfence', 'Ringfence'],
    skip: ['Skip to the content', '跳到正文', '跳到正文'],
    loading: ['Loading…', '加载中…', '載入中…'],
    saving: ['Saving…', '正在保存…', '正在儲存…'],
    saved: ['Saved.', '已保存。', '已儲存。'],
    save: ['Save', '保存', '儲存'],
    cancel: ['Cancel', '取消', '取消'],
    edit: ['Edit', '编辑', '編輯'],
    error: ['Something went wrong: ', '出错了：', '出錯了：'],
    networkError: [
      'The service could not be reached. Check your connection and try again.',
      '无法连接服务。请检查网络后重试。',
      '無法連線服務。請檢查網路後重試。',
    ],
    signedOut: ['Your session has ended. Sign in again.', '您的会话已结束，请重新登录。', '您的工作階段已結束，請重新登入。'],
    language: ['Language', '语言', '語言'],
    none: ['none', '无', '無'],
    email: ['E-mail address', '电子邮箱', '電子郵件'],
    password: ['Password', '密码', '密碼'],
    handle: ['Handle', '用户名', '使用者名稱'],
    name: ['Full name', '姓名', '姓名'],
    more: ['Show more', '显示更多', '顯示更多'],
  },
  nav: {
    label: ['Console', '控制台', '控制台'],
    profile: ['Profile', '个人资料', '個人資料'],
    rings: ['Rings', '隐私圈', '隱私圈'],
    visibility: ['Who sees what', '谁能看到什么', '誰能看到什麼'],
    services: ['Services', '服务', '服務'],
    credentials: ['Credentials', '证件', '證件'],
    activity: ['Activity', '活动记录', '活動紀錄'],
    sessions: ['Sessions', '会话', '工作階段'],
    signOut: ['Sign out', '退出登录', '登出'],
  },
  signIn: {
    title: ['Sign in', '登录', '登入'],
    login: ['E-mail or handle', '邮箱或用户名', '電子郵件或使用者名稱'],
    submit: ['Sign in', '登录', '登入'],
    noAccount: ['No account yet? Create one', '还没有账户？立即注册', '還沒有帳戶？立即註冊'],
    forgot: ['Forgot your password?', '忘记密码？', '忘記密碼？'],
  },
  signUp: {
    title: ['Create your account', '创建账户', '建立帳戶'],
    passwordHint: [
      'At least 8 characters; a few unrelated words make a strong one.',
      '至少 8 个字符；几个不相关的词组成的密码更安全。',
      '至少 8 個字元；幾個不相關的詞組成的密碼更安全。',
    ],
    handleHint: [
      '3 to 30 letters, digits, dots, dashes or underscores.',
      '3 到 30 个字母、数字、点、短横或下划线。',
      '3 到 30 個字母、數字、點、短橫或底線。',
    ],
    submit: ['Create account', '创建账户', '建立帳戶'],
    haveAccount: ['Already have an account? Sign in', '已有账户？登录', '已有帳戶？登入'],
  },
  verify: {
    title: ['Verify your e-mail address', '验证您的邮箱', '驗證您的電子郵件'],
    intro: ['We mailed you a 6-digit code. Enter it here.', '我们已向您发送 6 位验证码，请在此输入。', '我們已寄給您 6 位驗證碼，請在此輸入。'],
    code: ['Code', '验证码', '驗證碼'],
    submit: ['Verify', '验证', '驗證'],
    resend: ['Send a new code', '重新发送验证码', '重新寄送驗證碼'],
    resent: ['A new code is on its way.', '新的验证码已发送。', '新的驗證碼已寄出。'],
    done: ['Your address is verified.', '您的邮箱已验证。', '您的電子郵件已驗證。'],
    already: ['Your address is already verified.', '您的邮箱已验证过。', '您的電子郵件已驗證過。'],
  },
  forgot: {
    title: ['Forgot your password', '忘记密码', '忘記密碼'],
    intro: [
      'Enter your address: if it has an account, we mail it a reset token.',
      '输入您的邮箱：如果有对应账户，我们会发送重置令牌。',
      '輸入您的電子郵件：若有對應帳戶，我們會寄出重設權杖。',
    ],
    submit: ['Send the reset token', '发送重置令牌', '寄送重設權杖'],
    sent: [
      'If the address has an account, a reset token is on its way. Then set a new password.',
      '如果该邮箱有账户，重置令牌已发送。然后设置新密码。',
      '若該電子郵件有帳戶，重設權杖已寄出。接著設定新密碼。',
    ],
    next: ['Set a new password', '设置新密码', '設定新密碼'],
  },
  reset: {
    title: ['Set a new password', '设置新密码', '設定新密碼'],
    token: ['Reset token from the mail', '邮件中的重置令牌', '郵件中的重設權杖'],
    newPassword: ['New password', '新密码', '新密碼'],
    submit: ['Set the password', '设置密码', '設定密碼'],
    done: ['Your password is changed. Sign in with it.', '密码已更改，请用新密码登录。', '密碼已變更，請用新密碼登入。'],
  },
  profile: {
    title: ['My profile', '我的个人资料', '我的個人資料'],
    intro: [
      'Every field, the ring that decides who may see it, and where its value came from. Edit a value in place.',
      '每个字段、决定谁能看到它的隐私圈以及其值的来源。可直接编辑。',
      '每個欄位、決定誰能看到它的隱私圈以及其值的來源。可直接編輯。',
    ],
    field: ['Field', '字段', '欄位'],
    value: ['Value', '值', '值'],
    ring: ['Ring', '隐私圈', '隱私圈'],
    provenance: ['Provenance', '来源', '來源'],
    unset: ['not set', '未设置', '未設定'],
    derived: ['computed from', '计算自', '計算自'],
    jsonHint: ['As JSON, e.g. {"locality": "Burnaby"}', '使用 JSON，例如 {"locality": "Burnaby"}', '使用 JSON，例如 {"locality": "Burnaby"}'],
    badJson: ['is not valid JSON', '不是有效的 JSON', '不是有效的 JSON'],
    editField: ['Edit {field}', '编辑 {field}', '編輯 {field}'],
    pending: [
      'A code was mailed to the new address: enter it on the verification page to finish.',
      '验证码已发送到新邮箱：请在验证页面输入以完成更改。',
      '驗證碼已寄到新電子郵件：請在驗證頁面輸入以完成變更。',
    ],
    currentPassword: ['Current password (needed to change the e-mail address)', '当前密码（更改邮箱需要）', '目前密碼（變更電子郵件需要）'],
    unverified: ['Your e-mail address is not verified yet.', '您的邮箱尚未验证。', '您的電子郵件尚未驗證。'],
    verifyNow: ['Verify it now', '立即验证', '立即驗證'],
  },
  rings: {
    title: ['Rings', '隐私圈', '隱私圈'],
    intro: [
      'A field sits in one ring. Default rings run from public to restricted; custom rings admit exactly the roles and services you name.',
      '每个字段属于一个隐私圈。默认隐私圈从公开到受限；自定义隐私圈只允许您指定的角色和服务。',
      '每個欄位屬於一個隱私圈。預設隱私圈從公開到受限；自訂隱私圈只允許您指定的角色和服務。',
    ],
    moveTitle: ['Move fields between rings', '在隐私圈之间移动字段', '在隱私圈之間移動欄位'],
    ringOf: ['Ring of {field}', '{field} 的隐私圈', '{field} 的隱私圈'],
    moved: ['{field} is now in {ring}.', '{field} 已移到 {ring}。', '{field} 已移到 {ring}。'],
    capped: ['Still not visible to: ', '仍然不可见于：', '仍然不可見於：'],
    customTitle: ['Custom rings', '自定义隐私圈', '自訂隱私圈'],
    noCustom: ['No custom ring yet.', '还没有自定义隐私圈。', '還沒有自訂隱私圈。'],
    newRing: ['New custom ring', '新建自定义隐私圈', '新增自訂隱私圈'],
    ringName: ['Name', '名称', '名稱'],
    description: ['Description', '描述', '描述'],
    fields: ['Fields (comma-separated)', '字段（逗号分隔）', '欄位（逗號分隔）'],
    roles: ['Roles admitted (comma-separated)', '允许的角色（逗号分隔）', '允許的角色（逗號分隔）'],
    services: ['Services admitted (client ids, comma-separated)', '允许的服务（client id，逗号分隔）', '允許的服務（client id，逗號分隔）'],
    create: ['Create ring', '创建隐私圈', '建立隱私圈'],
    update: ['Save ring', '保存隐私圈', '儲存隱私圈'],
    remove: ['Delete ring', '删除隐私圈', '刪除隱私圈'],
    policyTitle: ['Ring policy file', '隐私圈策略文件', '隱私圈策略檔案'],
    policyIntro: [
      'Download the whole configuration as YAML, edit it, and upload it back.',
      '将全部配置下载为 YAML，编辑后再上传。',
      '將全部設定下載為 YAML，編輯後再上傳。',
    ],
    download: ['Download YAML', '下载 YAML', '下載 YAML'],
    policy: ['Ring policy (YAML)', '隐私圈策略（YAML）', '隱私圈策略（YAML）'],
    upload: ['Upload YAML', '上传 YAML', '上傳 YAML'],
    uploaded: ['The ring policy is replaced.', '隐私圈策略已替换。', '隱私圈策略已取代。'],
    file: ['Or choose a file', '或选择文件', '或選擇檔案'],
  },
  visibility: {
    title: ['Who sees what', '谁能看到什么', '誰能看到什麼'],
    intro: [
      'For the public, each role and each service you granted: what it sees now, and which layer withholds the rest.',
      '对公众、每个角色和您授权的每个服务：它现在能看到什么，以及其余字段被哪一层拦下。',
      '對公眾、每個角色和您授權的每個服務：它現在能看到什麼，以及其餘欄位被哪一層攔下。',
    ],
    reader: ['Reader', '读取方', '讀取方'],
    sees: ['Sees now', '现在可见', '現在可見'],
    withheld: ['Withheld, and why', '被拦下的字段及原因', '被攔下的欄位及原因'],
    public: ['The public', '公众', '公眾'],
    role: ['Any {role} service', '任何 {role} 服务', '任何 {role} 服務'],
    service: ['Service {name}', '服务 {name}', '服務 {name}'],
    layer: ['layer', '层', '層'],
    why: ['Why', '原因', '原因'],
    revision: ['Policy revision', '策略版本', '策略版本'],
  },
  services: {
    title: ['Services with access', '有访问权限的服务', '有存取權限的服務'],
    intro: [
      'Every service you granted, and exactly what it can see now.',
      '您授权的每个服务，以及它现在能看到的内容。',
      '您授權的每個服務，以及它現在能看到的內容。',
    ],
    none: ['No service has access to your profile.', '没有服务可以访问您的个人资料。', '沒有服務可以存取您的個人資料。'],
    role: ['Role', '角色', '角色'],
    scopes: ['Scopes granted', '已授权范围', '已授權範圍'],
    sees: ['Sees now', '现在可见', '現在可見'],
    granted: ['Granted', '授权时间', '授權時間'],
    lastUsed: ['Last read', '最近读取', '最近讀取'],
    never: ['never', '从未', '從未'],
    revoke: ['Revoke access of {name}', '撤销 {name} 的访问权限', '撤銷 {name} 的存取權限'],
    confirmTitle: ['Revoke the access of {name}?', '撤销 {name} 的访问权限？', '撤銷 {name} 的存取權限？'],
    confirmText: [
      'It can see these fields now; after this it sees none of them, at once:',
      '它现在可以看到这些字段；撤销后立即全部不可见：',
      '它現在可以看到這些欄位；撤銷後立即全部不可見：',
    ],
    confirm: ['Yes, revoke', '确认撤销', '確認撤銷'],
    revoked: ['The access of {name} is revoked.', '{name} 的访问权限已撤销。', '{name} 的存取權限已撤銷。'],
  },
  activity: {
    title: ['Activity', '活动记录', '活動紀錄'],
    intro: ['Everything that happened to your data, newest first.', '您的数据发生的所有事情，最新的在前。', '您的資料發生的所有事情，最新的在前。'],
    kind: ['Show', '显示', '顯示'],
    all: ['Everything', '全部', '全部'],
    when: ['When', '时间', '時間'],
    what: ['What', '事件', '事件'],
    who: ['By', '操作者', '操作者'],
    details: ['Details', '详情', '詳情'],
    empty: ['Nothing yet.', '暂无记录。', '暫無紀錄。'],
  },
  sessions: {
    title: ['Sessions', '会话', '工作階段'],
    intro: ['This browser is signed in until the session expires.', '此浏览器在会话到期前保持登录。', '此瀏覽器在工作階段到期前保持登入。'],
    signedInAs: ['Signed in as', '登录身份', '登入身分'],
    expires: ['Session expires', '会话到期时间', '工作階段到期時間'],
    logout: ['Sign out of this browser', '退出此浏览器', '登出此瀏覽器'],
    logoutAll: ['Sign out everywhere', '退出所有设备', '登出所有裝置'],
    logoutAllHint: [
      'Ends every session of your account, on every device, and your sign-ins at services.',
      '结束您账户在所有设备上的会话，以及在各服务的登录。',
      '結束您帳戶在所有裝置上的工作階段，以及在各服務的登入。',
    ],
  },
  credentials: {
    title: ['Credentials', '证件', '證件'],
    intro: [
      'Add a photo of the back of your driving licence or ID card: Ringfence reads its barcode, checks it, and shows you what it would write into your profile before anything is written.',
      '添加驾照或身份证背面的照片：Ringfence 读取其条码并加以检查，在写入任何内容之前，先向您展示将写入个人资料的内容。',
      '新增駕照或身分證背面的照片：Ringfence 讀取其條碼並加以檢查，在寫入任何內容之前，先向您顯示將寫入個人資料的內容。',
    ],
    uploadTitle: ['Add a credential', '添加证件', '新增證件'],
    type: ['Kind of card', '证件类型', '證件類型'],
    image: ['Photo of the back of the card', '证件背面的照片', '證件背面的照片'],
    imageHint: [
      'JPEG, PNG or WebP, at most 10 MB; flat, in good light, the whole barcode in focus.',
      'JPEG、PNG 或 WebP，最大 10 MB；平放、光线充足、条码完整清晰。',
      'JPEG、PNG 或 WebP，最大 10 MB；平放、光線充足、條碼完整清晰。',
    ],
    upload: ['Read the card', '读取证件', '讀取證件'],
    reading: ['Reading the barcode…', '正在读取条码…', '正在讀取條碼…'],
    reviewTitle: ['Review what was read', '核对读取的内容', '核對讀取的內容'],
    notProven: [
      'Not proof of authenticity: the barcode carries no signature, so Ringfence cannot tell a genuine card from a forged one.',
      '不能证明真实性：条码不带签名，Ringfence 无法区分真证件和伪造证件。',
      '不能證明真實性：條碼不帶簽章，Ringfence 無法區分真證件和偽造證件。',
    ],
    checks: ['Checks', '检查', '檢查'],
    passed: ['passed', '通过', '通過'],
    failed: ['failed', '未通过', '未通過'],
    unknown: ['could not be checked', '无法检查', '無法檢查'],
    confirmIntro: [
      'Tick the fields to write into your profile. A value you correct is kept as yours (self-asserted), not as verified by the card.',
      '勾选要写入个人资料的字段。您更正过的值将作为您自己填写的值（自我声明），而不是由证件验证。',
      '勾選要寫入個人資料的欄位。您更正過的值將作為您自己填寫的值（自我聲明），而不是由證件驗證。',
    ],
    use: ['Write {field}', '写入 {field}', '寫入 {field}'],
    valueFor: ['Value of {field}', '{field} 的值', '{field} 的值'],
    confirm: ['Confirm', '确认', '確認'],
    reject: ['Reject and discard', '拒绝并丢弃', '拒絕並丟棄'],
    notConfirmable: [
      'A required check failed: this card cannot verify your profile. Reject it, or add a better photo.',
      '有必需的检查未通过：此证件无法验证您的个人资料。请拒绝它，或添加更清晰的照片。',
      '有必要的檢查未通過：此證件無法驗證您的個人資料。請拒絕它，或新增更清晰的照片。',
    ],
    confirmed: ['Confirmed: {fields}.', '已确认：{fields}。', '已確認：{fields}。'],
    rejected: [
      'The credential is rejected; its photo and extraction are deleted.',
      '证件已拒绝，其照片和提取内容已删除。',
      '證件已拒絕，其照片與擷取內容已刪除。',
    ],
    listTitle: ['Your credentials', '您的证件', '您的證件'],
    none: ['No credential yet.', '还没有证件。', '還沒有證件。'],
    state: ['State', '状态', '狀態'],
    state_pending_confirmation: ['waiting for your review', '等待您核对', '等待您核對'],
    state_confirmed: ['confirmed', '已确认', '已確認'],
    state_rejected: ['rejected', '已拒绝', '已拒絕'],
    issuer: ['Issuer', '签发机构', '簽發機構'],
    expires: ['Expires', '到期日', '到期日'],
    added: ['Added', '添加时间', '新增時間'],
    verifies: ['Verifies', '验证的字段', '驗證的欄位'],
    review: ['Review {label}', '核对 {label}', '核對 {label}'],
    photo: ['Photo of {label}', '{label} 的照片', '{label} 的照片'],
    delete: ['Delete {label}', '删除 {label}', '刪除 {label}'],
    deleted: [
      'Deleted. Fields it verified are now self-asserted: {fields}.',
      '已删除。它验证过的字段现为自我声明：{fields}。',
      '已刪除。它驗證過的欄位現為自我聲明：{fields}。',
    ],
  },
};

export type Messages = Record<string, string>;

/** The messages of one language, keyed `section.name`. */
export function messagesFor(locale: Locale): Messages {
  const index = LOCALES.indexOf(locale);
  const out: Messages = {};
  for (const [section, messages] of Object.entries(CATALOGUE)) {
    for (const [name, texts] of Object.entries(messages)) out[`${section}.${name}`] = texts[index];
  }
  return out;
}

/** Every key and language, for the catalogue's own test. */
export function catalogueEntries(): { key: string; texts: readonly string[] }[] {
  return Object.entries(CATALOGUE).flatMap(([section, messages]) =>
    Object.entries(messages).map(([name, texts]) => ({ key: `${section}.${name}`, texts })),
  );
}
