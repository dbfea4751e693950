/**
 * The language of a console page: `?lang=`, else the `rf_lang` cookie (which the console sets from the profile's
 * `locale`, or when the person picks a language), else the best match of `Accept-Language`, else English.
 */
import { LOCALES, type Locale } from './catalogue.ts';

/** The console language of a BCP 47 tag: zh-TW, zh-HK, zh-MO and zh-Hant are Traditional; other zh Simplified. */
function localeOfTag(tag: string): Locale | undefined {
  const t = tag.trim().toLowerCase();
  if (t === 'en' || t.startsWith('en-')) return 'en';
  if (t === 'zh' || t.startsWith('zh-')) return /^zh-(hant|tw|hk|mo)\b/.test(t) ? 'zh-Hant' : 'zh-Hans';
  return undefined;
}

function fromAcceptLanguage(header: string): Locale | undefined {
  const ranked = header
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag, ...params] = part.split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag, q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranked) {
    const locale = localeOfTag(r.tag);
    if (locale) return locale;
  }
  return undefined;
}

function cookieLang(cookieHeader: string): Locale | undefined {
  const match = /(?:^|;\s*)rf_lang=([A-Za-z-]{2,16})/.exec(cookieHeader);
  return match && (LOCALES as readonly string[]).includes(match[1]) ? (match[1] as Locale) : undefined;
}

export function chooseLocale(lang: unknown, cookieHeader: string, acceptLanguage: string): Locale {
  if (typeof lang === 'string' && (LOCALES as readonly string[]).includes(lang)) return lang as Locale;
  return cookieLang(cookieHeader) ?? fromAcceptLanguage(acceptLanguage) ?? 'en';
}
