"""Tasks for the sim's text tests: (task, genre, language), across genres, domains and languages."""

from __future__ import annotations

CORPUS: list[tuple[str, str, str]] = [
    # reports and analyses
    ("Analyze the lithium battery supply chain in Chile and identify export risks.", "report", "en"),
    ("Analyze Tesla (TSLA) stock from market and financial perspectives", "report", "en"),
    ("Evaluate the risks of expanding into the European market", "report", "en"),
    ("Assess the impact of a 3.5% interest rate rise on U.S. housing demand.", "report", "en"),
    ("Compare the P/E ratio of Apple and Microsoft and what it says about valuation.", "report", "en"),
    ("Review our C++ codebase migration plan to Rust.", "report", "en"),
    ("Draft a market entry strategy for plant-based dairy in Brazil.", "report", "en"),
    ("Identify the main drivers of hospital readmission rates.", "report", "en"),
    ("Plan a marketing launch for a Kyoto tea brand.", "report", "en"),
    ("Generate report", "report", "en"),
    ("Research the effects of microplastics on coastal fisheries.", "report", "en"),
    ("Increase productivity in a remote engineering team.", "report", "en"),
    # questions
    ("Should a mid-sized city invest in grid-scale battery storage?", "question", "en"),
    ("What is the P/E ratio and why does it matter?", "question", "en"),
    ("Is nuclear power safe?", "question", "en"),
    ("Can small farms compete with industrial agriculture?", "question", "en"),
    ("Which programming language should a beginner learn first?", "question", "en"),
    ("Who benefits most from open banking regulation?", "question", "en"),
    # explanations
    ("Explain how neural networks work", "explain", "en"),
    ("Write a short explanation of how neural networks work", "explain", "en"),
    ("How does compound interest grow savings over time?", "explain", "en"),
    ("Explain step by step how vaccines train the immune system.", "explain", "en"),
    ("Why do airlines overbook flights?", "explain", "en"),
    # summaries
    ("Summarize the benefits of remote work", "summary", "en"),
    ("Summarise the history of jazz in New Orleans.", "summary", "en"),
    ("Give me a TL;DR of the EU AI Act.", "summary", "en"),
    # lists
    ("List 5 tips for better sleep", "list", "en"),
    ("List three risks of generative AI in schools.", "list", "en"),
    ("Give me 7 ideas for a small garden.", "list", "en"),
    ("Top 10 reasons to learn a second language", "list", "en"),
    ("List 4 ways to reduce cloud computing costs.", "list", "en"),
    # creative
    ("Write a creative story", "story", "en"),
    ("Write a story about a robot learning to paint", "story", "en"),
    ("Tell me a bedtime story about a brave little fox.", "story", "en"),
    ("Write a haiku about autumn", "haiku", "en"),
    ("Write a haiku about the ocean at night", "haiku", "en"),
    ("Write a poem about the city at dawn", "poem", "en"),
    ("Compose a short poem about friendship", "poem", "en"),
    # emails
    ("Write an email to my manager asking for a day off next Friday", "email", "en"),
    ("Draft an email to the team announcing the new office hours.", "email", "en"),
    ("Write a letter to a customer about a delayed order.", "email", "en"),
    # code
    ("Write a Python function to check if a number is prime", "code", "en"),
    ("Write a JavaScript function that reverses a string.", "code", "en"),
    ("Implement factorial in Rust", "code", "en"),
    ("Write a SQL query that counts orders per customer.", "code", "en"),
    ("Write a Go function that sorts a list of integers.", "code", "en"),
    ("Write a C++ function to compute the average of a vector.", "code", "en"),
    # other languages
    ("请写一篇关于人工智能在医疗领域应用的文章", "report", "zh"),
    ("列出五个提高睡眠质量的方法", "list", "zh"),
    ("写一首关于秋天的诗", "poem", "zh"),
    ("東京の歴史について説明してください", "explain", "ja"),
    ("桜についての俳句を書いてください", "haiku", "ja"),
    ("Escribe un artículo sobre la energía solar en España.", "report", "es"),
    ("Explica cómo funciona la inflación.", "explain", "es"),
    ("Escribe un poema sobre el mar", "poem", "es"),
    ("Écris un article sur le changement climatique en France.", "report", "fr"),
    ("Écris une histoire sur un chat perdu à Paris.", "story", "fr"),
    ("Schreibe einen Artikel über erneuerbare Energien in Deutschland.", "report", "de"),
    ("Erkläre, wie ein Elektroauto funktioniert.", "explain", "de"),
]
